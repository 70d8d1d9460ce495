"""kazoo client steps for the Keeper ensemble tests. Usage: ensemble_client.py COMMAND HOSTS [ARGS...]

writer HOSTS NAME        creates /ens/NAME-<n> for n = 0, 1, ... until stdin closes; prints "ack <n>" for each create
                         the server acknowledged and "fail <n> <error>" for each whose outcome is unknown.
children HOSTS PATH      sync, then prints every child of PATH, one per line, then "done".
replicate HOSTS          writes through the first host, then reads through each host after sync.
move HOSTS               holds an ephemeral and a data watch, waits for a line on stdin (its server was killed), then
                         reports its session after moving to another server, the ephemeral, and whether the watch fired.
hold HOSTS PATH TIMEOUT  creates the ephemeral PATH with a session of TIMEOUT seconds, prints "ready", then sleeps.
"""
import os, sys, threading, time
from kazoo.client import KazooClient
from kazoo.recipe.watchers import DataWatch
from kazoo.exceptions import KazooException

def client(hosts, timeout=10.0, randomize=True):
    zk = KazooClient(hosts=hosts, timeout=timeout, randomize_hosts=randomize,
                     connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.5}, command_retry=None)
    zk.start(timeout=30)
    return zk

def writer(hosts, name):
    zk = client(hosts)
    zk.ensure_path("/ens")
    print("ready", flush=True)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    n = 0
    while not stop.is_set():
        try:
            # Bounded: with every server down a create would wait for a connection forever.
            zk.create_async("/ens/%s-%d" % (name, n), b"%d" % n).get(timeout=10)
            print("ack %d" % n, flush=True)
        except Exception as e:
            print("fail %d %s" % (n, type(e).__name__), flush=True)
            time.sleep(0.05)
        n += 1
    sys.stdout.flush()
    os._exit(0)  # stopping the client could wait on servers that are gone

def children(hosts, path):
    zk = client(hosts)
    zk.sync(path)
    for c in sorted(zk.get_children(path)):
        print(c)
    print("done", flush=True)
    zk.stop()

def replicate(hosts):
    first = hosts.split(",")[0]
    zk = client(first)
    zk.ensure_path("/rep")
    seq = zk.create("/rep/seq-", b"", sequence=True)
    for i in range(50):
        zk.set("/rep", b"v%d" % i)
    t = zk.transaction(); t.create("/rep/m", b"x"); t.set_data("/rep", b"multi"); t.commit()
    print("wrote %s" % seq, flush=True)
    for h in hosts.split(","):
        other = client(h)
        other.sync("/rep")
        data, stat = other.get("/rep")
        print("%s %s version=%d children=%s" % (h, data.decode(), stat.version, ",".join(sorted(other.get_children("/rep")))), flush=True)
        other.stop()
    zk.stop()

def move(hosts):
    zk = client(hosts, timeout=8.0, randomize=False)
    seen = []
    zk.create("/moving", b"", ephemeral=True)
    zk.ensure_path("/watched")
    # kazoo drops one-shot watches when its connection breaks; its DataWatch sets the watch again after reconnecting.
    DataWatch(zk, "/watched", lambda data, stat: seen.append(data))
    print("session %x on %s" % (zk.client_id[0], zk._connection._socket.getpeername()[1]), flush=True)
    sys.stdin.readline()  # the test kills our server, then writes a line
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            zk.exists("/moving"); break
        except KazooException:
            time.sleep(0.1)
    print("session %x on %s" % (zk.client_id[0], zk._connection._socket.getpeername()[1]), flush=True)
    other = client(hosts.split(",")[-1])
    other.sync("/moving")
    print("ephemeral %s" % ("present" if other.exists("/moving") else "gone"), flush=True)
    other.set("/watched", b"changed")
    deadline = time.time() + 30
    while b"changed" not in seen and time.time() < deadline:
        time.sleep(0.05)
    print("watch %s" % ("saw the change" if b"changed" in seen else "missed the change"), flush=True)
    other.stop(); zk.stop()

def hold(hosts, path, timeout):
    zk = client(hosts, timeout=float(timeout))
    zk.create(path, b"", ephemeral=True, makepath=True)
    print("ready %x" % zk.client_id[0], flush=True)
    while True:
        time.sleep(1)

if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"writer": writer, "children": children, "replicate": replicate, "move": move, "hold": hold}[command](*args)
