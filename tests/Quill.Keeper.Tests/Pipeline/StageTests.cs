using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Quill.Keeper.Metrics;
using Quill.Keeper.Pipeline;
using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Tree;

namespace Quill.Keeper.Tests.Pipeline;

/// <summary>
/// The processor and its stages driven without sockets or a disk: an in-memory channel, and a sync stage the test
/// releases by hand, so each step of a write can be looked at.
/// </summary>
public sealed class StageTests : IAsyncLifetime
{
    private readonly DataTree _tree = new(extendedTypes: false);
    private readonly HeldSync _sync = new();
    private readonly TestChannel _channel = new();
    private readonly CancellationTokenSource _stop = new();
    private RequestProcessor _processor = null!;
    private Task _run = Task.CompletedTask;

    /// <summary>Holds what prepare passed on until the test commits it.</summary>
    private sealed class HeldSync : IRequestStage
    {
        private readonly List<Request> _held = [];
        public void Submit(Request request) { lock (_held) _held.Add(request); }
        public List<Request> Take()
        {
            lock (_held) { var all = _held.ToList(); _held.Clear(); return all; }
        }
        public int Count { get { lock (_held) return _held.Count; } }
    }

    public async Task InitializeAsync()
    {
        var time = new FakeTimeProvider();
        var options = new KeeperOptions { DataDir = "unused" };
        _processor = new RequestProcessor(options, _tree, new SessionTracker(time, new byte[32]), _sync, new KeeperMetrics(), time, NullLogger.Instance);
        _run = Task.Run(() => _processor.RunAsync(_stop.Token));
        _processor.Post(new ConnectWork(_channel, new ConnectRequest(0, 0, 30_000, 0, new byte[16], false, true)));
        await Until(() => _sync.Count == 1);
        _processor.Post(new CommittedWork(_sync.Take()));
        await Until(() => _channel.Frames.Count == 1);
    }

    public async Task DisposeAsync()
    {
        _processor.Complete();
        await _run;
        _stop.Dispose();
    }

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 30 s");
            await Task.Delay(5);
        }
    }

    private void Post(int xid, OpCode type, IJuteRecord body)
    {
        var w = new JuteWriter();
        body.Write(w);
        _processor.Post(new RequestWork(_channel, xid, type, w.ToArray()));
    }

    /// <summary>Runs on the owner thread after everything posted before it.</summary>
    private Task<string> Barrier() => _processor.QueryAsync(() => "");

    [Fact]
    public async Task A_write_is_prepared_then_synced_then_applied_and_a_read_of_the_same_session_waits_for_it()
    {
        Post(1, OpCode.Create, new CreateRequest("/a", [7], [.. Acl.OpenAclUnsafe], 0));
        Post(2, OpCode.GetData, new PathWatchRequest("/a", false));
        await Barrier();

        // Prepared: a txn with the next zxid, handed to sync; not applied, not answered, and the read waits behind it.
        var held = _sync.Take();
        var create = Assert.Single(held);
        Assert.Equal(RequestState.InFlight, create.State);
        Assert.NotNull(create.Txn);
        Assert.Equal(2, create.Zxid); // 1 was the session's
        Assert.Null(_tree.Get("/a"));
        Assert.Empty(_channel.Replies());

        // Committed: applied to the tree, answered, then the read answered from the tree that includes it.
        _processor.Post(new CommittedWork(held));
        await Until(() => _channel.Replies().Count == 2);
        var replies = _channel.Replies();
        Assert.Equal([1, 2], replies.Select(r => r.Header.Xid));
        Assert.Equal(2, replies[0].Header.Zxid);
        Assert.NotNull(_tree.Get("/a"));
        var r = new JuteReader(replies[1].Body);
        Assert.Equal([7], GetDataResponse.Read(ref r).Data);
        Assert.Equal(2, _channel.RequestsDone);
    }

    [Fact]
    public async Task A_rejected_write_moves_through_sync_too_and_keeps_its_turn()
    {
        Post(1, OpCode.Create, new CreateRequest("/a", [], [.. Acl.OpenAclUnsafe], 0));
        Post(2, OpCode.Create, new CreateRequest("/a", [], [.. Acl.OpenAclUnsafe], 0)); // exists once the first is applied
        await Barrier();

        var held = _sync.Take();
        Assert.Equal(2, held.Count);
        Assert.Null(held[1].Txn);
        Assert.Equal(ErrorCode.NodeExists, held[1].Error);
        Assert.Empty(_channel.Replies());

        _processor.Post(new CommittedWork(held));
        await Until(() => _channel.Replies().Count == 2);
        Assert.Equal([(1, ErrorCode.Ok), (2, ErrorCode.NodeExists)], _channel.Replies().Select(r => (r.Header.Xid, r.Header.Err)));
    }
}
