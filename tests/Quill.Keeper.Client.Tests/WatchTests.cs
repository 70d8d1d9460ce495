using System.Collections.Concurrent;
using Quill.Keeper.Client.Tests.Fixtures;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Tests;

/// <summary>One-shot, persistent and recursive watches, their removal, and ZooKeeper's ordering guarantee.</summary>
public abstract class WatchTests(KeeperServerFixture server) : ClientTestBase(server)
{
    private static WatchedEvent Event(EventType type, string path) => new(type, KeeperState.SyncConnected, path);

    /// <summary>A watcher that records every event it hears.</summary>
    private sealed class Recorder
    {
        public readonly ConcurrentQueue<WatchedEvent> Events = new();
        private readonly SemaphoreSlim _arrived = new(0);
        private int _consumed;

        public void On(WatchedEvent e)
        {
            Events.Enqueue(e);
            _arrived.Release();
        }

        public async Task<WatchedEvent> NextAsync()
        {
            Assert.True(await _arrived.WaitAsync(Patience), "no watch event arrived");
            return Events.ElementAt(_consumed++);
        }

        /// <summary>Waits a little to be sure nothing more arrives.</summary>
        public async Task AssertQuietAsync()
        {
            Assert.False(await _arrived.WaitAsync(TimeSpan.FromMilliseconds(300)), $"unexpected event {Events.LastOrDefault()}");
        }
    }

    [Fact]
    public async Task Data_watch_fires_once()
    {
        await Client.CreateAsync(P("d"), null);
        var recorder = new Recorder();
        await Client.GetDataAsync(P("d"), recorder.On);
        Assert.Equal(1, Client.WatchCount);

        await Client.SetDataAsync(P("d"), Bytes("1"));
        Assert.Equal(Event(EventType.NodeDataChanged, P("d")), await recorder.NextAsync());
        Assert.Equal(0, Client.WatchCount);
        await Client.SetDataAsync(P("d"), Bytes("2"));
        await recorder.AssertQuietAsync();
    }

    [Fact]
    public async Task Exists_watch_on_a_missing_node_fires_on_creation()
    {
        var created = new KeeperWatch();
        Assert.Null(await Client.ExistsAsync(P("later"), created));
        await Client.CheckWatchesAsync(P("later"), WatcherType.Data);
        var other = await ConnectAsync();
        await other.CreateAsync(P("later"), null);
        Assert.Equal(Event(EventType.NodeCreated, P("later")), await Soon(created.Fired));
    }

    [Fact]
    public async Task Exists_watch_on_an_existing_node_fires_on_deletion()
    {
        await Client.CreateAsync(P("e"), null);
        var deleted = new KeeperWatch();
        Assert.NotNull(await Client.ExistsAsync(P("e"), deleted));
        await Client.DeleteAsync(P("e"));
        Assert.Equal(Event(EventType.NodeDeleted, P("e")), await Soon(deleted.Fired));
    }

    [Fact]
    public async Task Child_watch_fires_on_child_created_then_must_be_set_again()
    {
        var recorder = new Recorder();
        await Client.GetChildrenAsync(Root, recorder.On);
        await Client.CreateAsync(P("c1"), null);
        Assert.Equal(Event(EventType.NodeChildrenChanged, Root), await recorder.NextAsync());
        await Client.SetDataAsync(Root, Bytes("data changes are not child changes"));
        await Client.CreateAsync(P("c2"), null);
        await recorder.AssertQuietAsync();

        await Client.GetChildrenWithStatAsync(Root, recorder.On);
        await Client.DeleteAsync(P("c1"));
        Assert.Equal(Event(EventType.NodeChildrenChanged, Root), await recorder.NextAsync());
    }

    [Fact]
    public async Task One_watcher_on_data_and_children_hears_a_deletion_once()
    {
        await Client.CreateAsync(P("both"), null);
        var recorder = new Recorder();
        await Client.GetDataAsync(P("both"), recorder.On);
        await Client.GetChildrenAsync(P("both"), recorder.On);
        await Client.DeleteAsync(P("both"));
        Assert.Equal(Event(EventType.NodeDeleted, P("both")), await recorder.NextAsync());
        await recorder.AssertQuietAsync();
    }

    [Fact]
    public async Task Watch_event_is_seen_before_the_reply_that_follows_it()
    {
        await Client.CreateAsync(P("order"), Bytes("0"));
        var writer = await ConnectAsync();
        for (int round = 1; round <= 20; round++)
        {
            bool fired = false;
            await Client.GetDataAsync(P("order"), _ => fired = true);
            await writer.SetDataAsync(P("order"), Bytes(round.ToString()));
            // The notification left the server before this read's reply: its watcher must already have run.
            var node = await Client.GetDataAsync(P("order"));
            Assert.Equal(round.ToString(), Text(node.Data));
            Assert.True(fired, $"round {round}: reply seen before the watch event");
        }
    }

    [Fact]
    public async Task Persistent_watch_fires_every_time_until_removed()
    {
        await Client.CreateAsync(P("p"), null);
        var recorder = new Recorder();
        await Client.AddWatchAsync(P("p"), recorder.On, AddWatchMode.Persistent);

        await Client.SetDataAsync(P("p"), Bytes("1"));
        Assert.Equal(Event(EventType.NodeDataChanged, P("p")), await recorder.NextAsync());
        await Client.SetDataAsync(P("p"), Bytes("2"));
        Assert.Equal(Event(EventType.NodeDataChanged, P("p")), await recorder.NextAsync());
        await Client.CreateAsync(P("p/kid"), null);
        Assert.Equal(Event(EventType.NodeChildrenChanged, P("p")), await recorder.NextAsync());
        await Client.DeleteAsync(P("p/kid"));
        Assert.Equal(Event(EventType.NodeChildrenChanged, P("p")), await recorder.NextAsync());
        await Client.DeleteAsync(P("p"));
        Assert.Equal(Event(EventType.NodeDeleted, P("p")), await recorder.NextAsync());
        await Client.CreateAsync(P("p"), null);
        Assert.Equal(Event(EventType.NodeCreated, P("p")), await recorder.NextAsync());

        // 3.8 servers remove persistent watches with WatcherType.Any.
        await Client.RemoveWatchesAsync(P("p"), WatcherType.Any);
        Assert.Equal(Event(EventType.PersistentWatchRemoved, P("p")), await recorder.NextAsync());
        await Client.SetDataAsync(P("p"), Bytes("3"));
        await recorder.AssertQuietAsync();
        await ThrowsKeeper(ErrorCode.NoWatcher, () => Client.CheckWatchesAsync(P("p"), WatcherType.Any));
    }

    [Fact]
    public async Task Recursive_watch_hears_the_whole_subtree_but_not_child_list_changes()
    {
        await Client.CreateAsync(P("r"), null);
        var recorder = new Recorder();
        await Client.AddWatchAsync(P("r"), recorder.On, AddWatchMode.PersistentRecursive);

        await Client.CreateAsync(P("r/a"), null);
        Assert.Equal(Event(EventType.NodeCreated, P("r/a")), await recorder.NextAsync());
        await Client.CreateAsync(P("r/a/b"), null);
        Assert.Equal(Event(EventType.NodeCreated, P("r/a/b")), await recorder.NextAsync());
        await Client.SetDataAsync(P("r/a/b"), Bytes("x"));
        Assert.Equal(Event(EventType.NodeDataChanged, P("r/a/b")), await recorder.NextAsync());
        await Client.DeleteAsync(P("r/a/b"));
        Assert.Equal(Event(EventType.NodeDeleted, P("r/a/b")), await recorder.NextAsync());
        await Client.SetDataAsync(P("r"), Bytes("y"));
        Assert.Equal(Event(EventType.NodeDataChanged, P("r")), await recorder.NextAsync());
        await recorder.AssertQuietAsync();
    }

    [Fact]
    public async Task Watch_stream_yields_events_and_removes_its_watch_when_done()
    {
        await Client.CreateAsync(P("s"), null);
        using var timeout = new CancellationTokenSource(Patience);
        var seen = new List<WatchedEvent>();
        var reader = Task.Run(async () =>
        {
            await foreach (var e in Client.WatchAsync(P("s"), AddWatchMode.Persistent, timeout.Token))
            {
                seen.Add(e);
                if (seen.Count == 3) break;
            }
        });
        await Soon(WaitUntil(() => Client.WatchCount == 1));
        for (int i = 0; i < 3; i++) await Client.SetDataAsync(P("s"), Bytes(i.ToString()));
        await Soon(reader);
        Assert.Equal(3, seen.Count);
        Assert.All(seen, e => Assert.Equal(EventType.NodeDataChanged, e.Type));
        Assert.Equal(0, Client.WatchCount);
        await ThrowsKeeper(ErrorCode.NoWatcher, () => Client.CheckWatchesAsync(P("s"), WatcherType.Any));
    }

    [Fact]
    public async Task Remove_data_watch_tells_the_watcher_and_the_server()
    {
        await Client.CreateAsync(P("rm"), null);
        var recorder = new Recorder();
        await Client.GetDataAsync(P("rm"), recorder.On);
        await Client.CheckWatchesAsync(P("rm"), WatcherType.Data);

        await Client.RemoveWatchesAsync(P("rm"), WatcherType.Data);
        Assert.Equal(Event(EventType.DataWatchRemoved, P("rm")), await recorder.NextAsync());
        await ThrowsKeeper(ErrorCode.NoWatcher, () => Client.CheckWatchesAsync(P("rm"), WatcherType.Data));
        await Client.SetDataAsync(P("rm"), Bytes("x"));
        await recorder.AssertQuietAsync();
    }

    [Fact]
    public async Task Remove_child_watch_leaves_the_data_watch()
    {
        await Client.CreateAsync(P("mix"), null);
        var data = new KeeperWatch();
        var children = new Recorder();
        await Client.GetDataAsync(P("mix"), data);
        await Client.GetChildrenAsync(P("mix"), children.On);
        await Client.RemoveWatchesAsync(P("mix"), WatcherType.Children);
        Assert.Equal(Event(EventType.ChildWatchRemoved, P("mix")), await children.NextAsync());
        await Client.CheckWatchesAsync(P("mix"), WatcherType.Data);
        await Client.SetDataAsync(P("mix"), Bytes("x"));
        Assert.Equal(EventType.NodeDataChanged, (await Soon(data.Fired)).Type);
    }

    [Fact]
    public async Task Local_removal_does_not_ask_the_server()
    {
        await Client.CreateAsync(P("local"), null);
        var recorder = new Recorder();
        await Client.GetDataAsync(P("local"), recorder.On);
        await Client.RemoveWatchesAsync(P("local"), WatcherType.Data, local: true);
        Assert.Equal(EventType.DataWatchRemoved, (await recorder.NextAsync()).Type);
        await Client.CheckWatchesAsync(P("local"), WatcherType.Data); // the server still holds it
        await Client.SetDataAsync(P("local"), Bytes("x"));
        await recorder.AssertQuietAsync(); // but nobody hears it
    }

    [Fact]
    public async Task Removing_a_watch_that_does_not_exist_is_NoWatcher()
    {
        await ThrowsKeeper(ErrorCode.NoWatcher, () => Client.RemoveWatchesAsync(Root, WatcherType.Any));
        await ThrowsKeeper(ErrorCode.NoWatcher, () => Client.CheckWatchesAsync(Root, WatcherType.Children));
    }

    [Fact]
    public async Task Closing_the_client_ends_outstanding_watches()
    {
        var client = await ConnectAsync();
        var pending = new KeeperWatch();
        await client.ExistsAsync(P("never"), pending);
        await client.CloseAsync();
        var e = await Soon(pending.Fired);
        Assert.Equal(EventType.None, e.Type);
        Assert.Equal(KeeperState.Closed, e.State);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.GetDataAsync(Root));
    }

    private static async Task<bool> WaitUntil(Func<bool> condition)
    {
        while (!condition()) await Task.Delay(20);
        return true;
    }
}

public sealed class WatchTestsOnApacheZooKeeper(ApacheZooKeeperFixture server)
    : WatchTests(server), IClassFixture<ApacheZooKeeperFixture>;

public sealed class WatchTestsOnKeeper(QuillKeeperFixture server)
    : WatchTests(server), IClassFixture<QuillKeeperFixture>;
