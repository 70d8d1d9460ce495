import org.apache.curator.framework.*;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.retry.RetryOneTime;
import java.util.*;
import java.util.concurrent.*;

public class CuratorCheck {
    static CuratorFramework connect(String server) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.newClient(server, 15000, 10000, new RetryOneTime(200));
        c.start();
        if (!c.blockUntilConnected(15, TimeUnit.SECONDS)) throw new IllegalStateException("not connected");
        return c;
    }

    public static void main(String[] args) throws Exception {
        String server = args[0], root = args[1];
        // A lock guarding a read-modify-write counter, five clients at once.
        CuratorFramework setup = connect(server);
        setup.create().creatingParentsIfNeeded().forPath(root + "/counter", "0".getBytes());
        ExecutorService pool = Executors.newFixedThreadPool(5);
        List<Future<?>> work = new ArrayList<>();
        for (int i = 0; i < 5; i++) work.add(pool.submit(() -> {
            try (CuratorFramework c = connect(server)) {
                InterProcessMutex lock = new InterProcessMutex(c, root + "/lock");
                for (int n = 0; n < 10; n++) {
                    lock.acquire();
                    try {
                        int v = Integer.parseInt(new String(c.getData().forPath(root + "/counter")));
                        c.setData().forPath(root + "/counter", Integer.toString(v + 1).getBytes());
                    } finally { lock.release(); }
                }
            }
            return null;
        }));
        for (Future<?> f : work) f.get(120, TimeUnit.SECONDS);
        pool.shutdown();
        System.out.println("counter " + new String(setup.getData().forPath(root + "/counter")));

        // Leader latch: one leader among three; when it leaves, another takes over.
        List<CuratorFramework> clients = new ArrayList<>();
        List<LeaderLatch> latches = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            CuratorFramework c = connect(server);
            clients.add(c);
            LeaderLatch l = new LeaderLatch(c, root + "/leader", "p" + i);
            l.start();
            latches.add(l);
        }
        LeaderLatch leader = null;
        for (int t = 0; t < 100 && leader == null; t++) {
            for (LeaderLatch l : latches) if (l.hasLeadership()) leader = l;
            if (leader == null) Thread.sleep(100);
        }
        int leaders = 0;
        for (LeaderLatch l : latches) if (l.hasLeadership()) leaders++;
        System.out.println("leaders " + leaders);
        leader.close();
        latches.remove(leader);
        LeaderLatch next = null;
        for (int t = 0; t < 100 && next == null; t++) {
            for (LeaderLatch l : latches) if (l.hasLeadership()) next = l;
            if (next == null) Thread.sleep(100);
        }
        System.out.println("new leader " + (next != null && next != leader));
        for (LeaderLatch l : latches) l.close();
        for (CuratorFramework c : clients) c.close();

        // CuratorCache: Curator 5 builds it on a persistent recursive watch.
        BlockingQueue<String> events = new LinkedBlockingQueue<>();
        CuratorCache cache = CuratorCache.build(setup, root + "/cache");
        cache.listenable().addListener(CuratorCacheListener.builder()
            .forCreates(n -> events.add("created " + n.getPath().substring(root.length())))
            .forChanges((o, n) -> events.add("changed " + n.getPath().substring(root.length()) + " " + new String(n.getData())))
            .forDeletes(n -> events.add("deleted " + n.getPath().substring(root.length())))
            .build());
        cache.start();
        setup.create().forPath(root + "/cache", new byte[0]);
        System.out.println(events.poll(10, TimeUnit.SECONDS));
        setup.create().forPath(root + "/cache/a", "1".getBytes());
        System.out.println(events.poll(10, TimeUnit.SECONDS));
        setup.setData().forPath(root + "/cache/a", "2".getBytes());
        System.out.println(events.poll(10, TimeUnit.SECONDS));
        setup.delete().forPath(root + "/cache/a");
        System.out.println(events.poll(10, TimeUnit.SECONDS));
        cache.close();
        setup.delete().deletingChildrenIfNeeded().forPath(root);
        setup.close();
        System.out.println("done");
    }
}
