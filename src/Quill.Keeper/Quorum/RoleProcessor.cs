using Microsoft.Extensions.Logging;
using Quill.Keeper.Pipeline;
using Quill.Keeper.Storage;

namespace Quill.Keeper.Quorum;

/// <summary>
/// The request processor of one term, with the stages its role needs: a leader's prepare -> broadcast -> log ->
/// commit on a quorum; a follower's forwarding and its log of the leader's proposals. Built when the term starts,
/// disposed when it ends (the tree and sessions stay with the <see cref="QuorumPeer"/>).
/// </summary>
public sealed class RoleProcessor : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Snapshotter? _snapshotter;
    private readonly IDisposable? _logStage;
    private readonly Task _run;

    private RoleProcessor(RequestProcessor processor, Snapshotter? snapshotter, IDisposable? logStage, LeaderBroadcast? broadcast)
    {
        Processor = processor;
        _snapshotter = snapshotter;
        _logStage = logStage;
        Broadcast = broadcast;
        _run = Task.Run(() => processor.RunAsync(_stop.Token));
    }

    public RequestProcessor Processor { get; }
    public LeaderBroadcast? Broadcast { get; }

    public static RoleProcessor ForLeader(QuorumPeer peer, Leader leader, CommittedWindow window)
    {
        var log = peer.Loggers.CreateLogger("Keeper.Requests");
        var sync = new SyncStage(peer.TxnLog, peer.Loggers.CreateLogger("Keeper.Sync"));
        var broadcast = new LeaderBroadcast(leader.Epoch, peer.MyId, peer.Membership, window, sync, peer.Loggers.CreateLogger("Keeper.Leader"));
        var snapshotter = new Snapshotter(peer.Snapshots, sync.RequestRoll, peer.Loggers.CreateLogger("Keeper.Snapshots"));
        var processor = new RequestProcessor(peer.Options, peer.Tree, peer.Sessions, broadcast, peer.Metrics, peer.Time, log, ServerRole.Leader)
        {
            SnapshotReady = snapshotter.Take,
            Reconfigure = leader.PrepareReconfig,
            ConfigCommitted = peer.OnConfigCommitted,
        };
        processor.StartEpoch(leader.Epoch);
        broadcast.Deliver = batch => processor.Post(new CommittedWork(batch));
        sync.Start(broadcast.OnLogged);
        return new RoleProcessor(processor, snapshotter, sync, broadcast);
    }

    public static RoleProcessor ForFollower(QuorumPeer peer, QuorumConnection leader, SyncStage<Proposal> logStage)
    {
        var log = peer.Loggers.CreateLogger("Keeper.Requests");
        var snapshotter = new Snapshotter(peer.Snapshots, logStage.RequestRoll, peer.Loggers.CreateLogger("Keeper.Snapshots"));
        var processor = new RequestProcessor(peer.Options, peer.Tree, peer.Sessions, NoLocalWrites.Instance, peer.Metrics, peer.Time, log, ServerRole.Follower)
        {
            SnapshotReady = snapshotter.Take,
            SendToLeader = (type, zxid, data) => leader.Send(type, zxid, data),
            ConfigCommitted = peer.OnConfigCommitted,
        };
        return new RoleProcessor(processor, snapshotter, logStage, null);
    }

    /// <summary>Read-only mode between terms: reads from this server's state; no log, no snapshots, no writes.</summary>
    public static RoleProcessor ForReadOnly(QuorumPeer peer)
    {
        var log = peer.Loggers.CreateLogger("Keeper.Requests");
        var processor = new RequestProcessor(peer.Options, peer.Tree, peer.Sessions, NoLocalWrites.Instance, peer.Metrics, peer.Time, log, ServerRole.ReadOnly);
        return new RoleProcessor(processor, null, null, null);
    }

    /// <summary>A follower prepares nothing itself: every write goes to the leader (read-only mode refuses them).</summary>
    private sealed class NoLocalWrites : IRequestStage
    {
        public static readonly NoLocalWrites Instance = new();
        public void Submit(Request request) => throw new InvalidOperationException("a follower forwards writes to the leader");
    }

    /// <summary>Stops taking work, lets the log finish what it has (nothing logged is lost), waits for snapshots.</summary>
    public async ValueTask DisposeAsync()
    {
        Processor.Complete();
        // Waited for in full: the next term's code touches the same tree and sessions, and only one may own them.
        try { await _run.ConfigureAwait(false); } catch (Exception) { }
        _stop.Cancel();
        _logStage?.Dispose();
        if (_snapshotter is not null) await _snapshotter.Idle.ConfigureAwait(false);
        if (Processor.Role == ServerRole.ReadOnly) Processor.ForgetLocalSessions();
    }
}
