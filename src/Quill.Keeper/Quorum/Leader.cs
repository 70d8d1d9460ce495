using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Config;
using Quill.Keeper.Pipeline;
using Quill.Keeper.Protocol;
using Quill.Keeper.Storage;

namespace Quill.Keeper.Quorum;

/// <summary>
/// One term as leader, Zab's phases from the leader's side. Discovery: learners connect and say their accepted
/// epoch; once a quorum (this server included) has, the new epoch is one above all of them, and each learner must
/// accept it (ACKEPOCH, with its current epoch and last zxid). Synchronisation: each learner gets what it lacks of
/// this server's history (DIFF, TRUNC or SNAP, see <see cref="LeaderBroadcast.AddLearner"/>) and NEWLEADER; once a
/// quorum acknowledged NEWLEADER the ensemble is established and the leader serves clients. Broadcast runs until the
/// leader stops hearing from a quorum for syncLimit ticks (or is stopped): then the term ends and the server looks
/// for a leader again.
/// </summary>
public sealed class Leader
{
    private readonly QuorumPeer _peer;
    private readonly ILogger _log;
    private readonly object _lock = new();
    private readonly HashSet<long> _epochVoters = [];
    private readonly HashSet<long> _ackedEpoch = [];
    private readonly HashSet<long> _ackedNewLeader = [];
    private readonly TaskCompletionSource<long> _epochChosen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _epochAcked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<RoleProcessor> _processorReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _maxAcceptedEpoch;
    private string? _failure;
    /// <summary>A committed reconfig removed this server: it steps down once the commit has gone out.</summary>
    private volatile bool _removed;

    public Leader(QuorumPeer peer)
    {
        _peer = peer;
        _log = peer.Loggers.CreateLogger("Keeper.Leader");
        _maxAcceptedEpoch = peer.AcceptedEpoch;
        _epochVoters.Add(peer.MyId);
    }

    public long Epoch { get; private set; }
    /// <summary>Null until the epoch is accepted by a quorum and the term's processor exists.</summary>
    public LeaderBroadcast? Broadcast { get; private set; }
    public byte[] Secret => _peer.Sessions.Secret;
    public TimeSpan InitTimeout => TimeSpan.FromMilliseconds((long)_peer.Options.TickTime * _peer.Options.InitLimit);

    public bool IsMember(long sid, out bool voting) => _peer.IsMember(sid, out voting);

    public void Post(Work work) => _processorReady.Task.Result.Processor.Post(work);

    private bool IsQuorum(HashSet<long> voters) => voters.Count > _peer.Voters.Count / 2;

    public async Task<long> EpochToProposeAsync(long sid, long acceptedEpoch, bool voting, CancellationToken ct)
    {
        lock (_lock)
        {
            if (!_epochChosen.Task.IsCompleted)
            {
                _maxAcceptedEpoch = Math.Max(_maxAcceptedEpoch, acceptedEpoch);
                if (voting) _epochVoters.Add(sid);
                if (IsQuorum(_epochVoters)) _epochChosen.TrySetResult(_maxAcceptedEpoch + 1);
            }
        }
        return await _epochChosen.Task.WaitAsync(InitTimeout, ct).ConfigureAwait(false);
    }

    public async Task EpochAckedAsync(long sid, long learnerEpoch, long learnerZxid, bool voting, CancellationToken ct)
    {
        lock (_lock)
        {
            // A learner with a newer history than ours means this election went wrong: give the term up.
            if (learnerEpoch > _peer.CurrentEpoch || (learnerEpoch == _peer.CurrentEpoch && learnerZxid > _peer.Tree.LastZxid))
            {
                _failure = $"server {sid} is ahead of this leader (epoch {learnerEpoch}, zxid 0x{learnerZxid:x})";
                _epochAcked.TrySetException(new InvalidOperationException(_failure));
            }
            else if (voting && !_epochAcked.Task.IsCompleted)
            {
                _ackedEpoch.Add(sid);
                if (IsQuorum(_ackedEpoch)) _epochAcked.TrySetResult();
            }
        }
        await _epochAcked.Task.WaitAsync(InitTimeout, ct).ConfigureAwait(false);
    }

    public async Task SyncLearnerAsync(LearnerHandler learner, long learnerZxid)
    {
        var role = await _processorReady.Task.ConfigureAwait(false);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        role.Processor.Post(new OwnerWork(() =>
        {
            try
            {
                Broadcast!.AddLearner(learner, learnerZxid, role.Processor.CaptureState);
                done.TrySetResult();
            }
            catch (Exception e) { done.TrySetException(e); }
        }));
        await done.Task.ConfigureAwait(false);
    }

    public async Task NewLeaderAckedAsync(long sid, bool voting, CancellationToken ct)
    {
        lock (_lock)
        {
            if (voting && !_established.Task.IsCompleted)
            {
                _ackedNewLeader.Add(sid);
                if (IsQuorum(_ackedNewLeader)) _established.TrySetResult();
            }
        }
        await _established.Task.WaitAsync(InitTimeout, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Owner thread, from prepare: ZooKeeper's checks of a reconfig on the leader, in its order (one at a time, the
    /// expected version, the new membership from joining/leaving or new members, at least two voters with
    /// standaloneEnabled, a synced quorum of the new membership connected here); the new membership's text, versioned
    /// with the reconfig's zxid.
    /// </summary>
    public byte[] PrepareReconfig(ReconfigRequest request, long zxid)
    {
        var broadcast = Broadcast!;
        if (broadcast.ReconfigPending) throw Refuse(ErrorCode.ReconfigInProgress, "another reconfig is in progress");
        var last = broadcast.Current;
        if (request.CurConfigId != -1 && request.CurConfigId != last.Version)
            throw Refuse(ErrorCode.BadVersion, $"from version 0x{request.CurConfigId:x}, but the last is 0x{last.Version:x}");
        Membership next;
        try
        {
            next = request.NewMembers is { } members ? Membership.Parse(members, zxid) : Incremental(last, request, zxid);
        }
        catch (Exception e) when (e is ConfigException or FormatException or OverflowException)
        {
            throw Refuse(ErrorCode.BadArguments, e.Message);
        }
        if (next.Voters.Count < (_peer.Options.Quorum.StandaloneEnabled ? 2 : 1))
            throw Refuse(ErrorCode.BadArguments, $"the new configuration must include at least {(_peer.Options.Quorum.StandaloneEnabled ? 2 : 1)} voters");
        if (!broadcast.QuorumSynced(next))
            throw Refuse(ErrorCode.NewConfigNoQuorum, "there must be a connected and synced quorum in the new configuration");
        _log.LogInformation("Proposing reconfig 0x{Zxid:x}: {Servers}", zxid, next.ServerLines().Replace('\n', ' '));
        return System.Text.Encoding.UTF8.GetBytes(next.ToString());
    }

    private KeeperException Refuse(ErrorCode code, string why)
    {
        _log.LogWarning("Reconfig refused ({Code}): {Reason}", code, why);
        return new KeeperException(code);
    }

    /// <summary>Leaving ids removed, joining server.N=spec lines added (or replaced); a joiner must give all three ports.</summary>
    private static Membership Incremental(Membership last, ReconfigRequest request, long zxid)
    {
        var servers = new Dictionary<int, EnsembleMember>(last.Members);
        foreach (var leaving in (request.LeavingServers ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            servers.Remove(int.Parse(leaving, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture));
        foreach (var joiner in (request.JoiningServers ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = joiner.Split('=');
            if (parts.Length != 2) throw new ConfigException($"'{joiner}' is not server.N=host:quorumPort:electionPort[:role];[clientHost:]clientPort");
            var member = Membership.ParseServer(parts[0].Trim(), parts[1].Trim());
            if (member.ClientPort is null) throw new ConfigException($"{member.Key}: each server must have 3 ports (quorum, election, client)");
            foreach (var other in servers.Values.Where(o => o.Id != member.Id))
                if (string.Equals(other.Host, member.Host, StringComparison.OrdinalIgnoreCase) &&
                    new[] { other.QuorumPort, other.ElectionPort }.Intersect([member.QuorumPort, member.ElectionPort]).Any())
                    throw new ConfigException($"{member.Key}: an address is already used by {other.Key}");
            servers[member.Id] = member;
        }
        return new Membership(servers, zxid);
    }

    public async Task RunAsync(CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var me = _peer.Members[(int)_peer.MyId];
        var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        var tasks = new List<Task>();
        RoleProcessor? role = null;
        try
        {
            listener.Bind(_peer.QuorumEndpoint(me));
            listener.Listen(64);
            lock (tasks) tasks.Add(AcceptLoopAsync(listener, tasks, stop.Token));

            _ackedEpoch.Add(_peer.MyId);
            _ackedNewLeader.Add(_peer.MyId);
            Epoch = await _epochChosen.Task.WaitAsync(InitTimeout, stop.Token).ConfigureAwait(false);
            _peer.AcceptedEpoch = Epoch;
            _log.LogInformation("Leading epoch {Epoch} (a quorum of servers connected)", Epoch);
            await _epochAcked.Task.WaitAsync(InitTimeout, stop.Token).ConfigureAwait(false);
            _peer.CurrentEpoch = Epoch;
            _peer.VersionStaticMembership(Epoch);

            var window = _peer.LoadCommittedWindow();
            role = RoleProcessor.ForLeader(_peer, this, window);
            Broadcast = role.Broadcast!;
            _peer.Broadcast = Broadcast;
            _processorReady.TrySetResult(role);
            await _established.Task.WaitAsync(InitTimeout, stop.Token).ConfigureAwait(false);
            // Sessions get their full timeout from the moment clients can reach them again, not from the election.
            role.Processor.Post(new OwnerWork(() => _peer.Sessions.TouchAll()));
            _peer.EndTerm = () => _removed = true;
            _peer.StartServing(role, "leader");
            _log.LogInformation("Epoch {Epoch} established: serving clients as leader", Epoch);

            int tick = _peer.Options.TickTime;
            long stepDownAt = 0;
            long syncLimitMs = (long)tick * _peer.Options.SyncLimit;
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(Math.Max(10, tick / 2), stop.Token).ConfigureAwait(false);
                long now = Environment.TickCount64;
                foreach (var l in Broadcast!.Learners)
                {
                    // A learner not heard from for syncLimit is gone, even if its connection has not broken yet; one
                    // that is heard from but has not acknowledged a proposal for syncLimit is too slow, and is dropped
                    // as ZooKeeper drops it (it syncs again when it reconnects).
                    if (now - l.LastReceivedTicks > syncLimitMs) l.Close($"not heard from for {syncLimitMs} ms");
                    else if (l.OldestUnackedTicks is { } sent && now - sent > syncLimitMs) l.Close($"a proposal is unacknowledged after {syncLimitMs} ms");
                    else l.Send(PacketType.Ping, Broadcast.LastCommitted);
                }
                if (_failure is not null) break;
                if (_removed)
                {
                    // One more round of pings went out after the commit: the learners have it; now the term ends.
                    if (stepDownAt == 0) stepDownAt = now;
                    else
                    {
                        _log.LogInformation("A reconfig removed this server: stepping down as leader of epoch {Epoch}", Epoch);
                        break;
                    }
                }
                if (!Broadcast.HasQuorum(now - syncLimitMs))
                {
                    _log.LogWarning("Lost the quorum (no answer from enough followers for {Ms} ms): leaving epoch {Epoch}", syncLimitMs, Epoch);
                    break;
                }
            }
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or SocketException)
        {
            _log.LogWarning("Leading failed: {Reason}", _failure ?? e.Message);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        finally
        {
            _peer.EndTerm = null;
            _processorReady.TrySetCanceled();
            _peer.Broadcast = null;
            stop.Cancel();
            listener.Dispose();
            _peer.StopServing();
            Task[] all;
            lock (tasks) all = [.. tasks];
            try { await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false); } catch (Exception) { }
            if (role is not null) await role.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task AcceptLoopAsync(Socket listener, List<Task> tasks, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await listener.AcceptAsync(ct).ConfigureAwait(false); }
            catch (Exception) when (ct.IsCancellationRequested) { return; }
            catch (SocketException) { continue; }
            var handler = new LearnerHandler(this, new QuorumConnection(socket), _log);
            lock (tasks) tasks.Add(Task.Run(() => handler.RunAsync(ct)));
        }
    }
}
