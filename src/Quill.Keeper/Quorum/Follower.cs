using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Pipeline;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Quorum;

/// <summary>
/// One term as follower, Zab's phases from the learner's side: connect to the elected leader, say the accepted epoch
/// (FOLLOWERINFO), take the new one (LEADERINFO, written to acceptedEpoch before ACKEPOCH), get in line with the
/// leader's history (DIFF, TRUNC or SNAP), log what follows and acknowledge, take the epoch as current once
/// everything before NEWLEADER is on disk, and serve clients from UPTODATE on. The term ends when the leader is not
/// heard from for syncLimit ticks, or the connection breaks.
/// </summary>
public sealed class Follower(QuorumPeer peer, long leaderId)
{
    private readonly ILogger _log = peer.Loggers.CreateLogger("Keeper.Follower");
    /// <summary>Proposals received and not yet committed, by zxid (the reader's own: one thread).</summary>
    private readonly Dictionary<long, Proposal> _proposed = [];

    public async Task RunAsync(CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var options = peer.Options;
        var initTimeout = TimeSpan.FromMilliseconds((long)options.TickTime * options.InitLimit);
        long syncLimitMs = (long)options.TickTime * options.SyncLimit;
        QuorumConnection? conn = null;
        RoleProcessor? role = null;
        SyncStage<Proposal>? logStage = null;
        Task? watchdog = null;
        try
        {
            conn = await ConnectAsync(initTimeout, stop.Token).ConfigureAwait(false);
            var info = new JuteWriter(16);
            info.WriteLong(peer.MyId);
            conn.Send(PacketType.FollowerInfo, peer.AcceptedEpoch << 32, info.ToArray());

            var leaderInfo = await ReceiveAsync(conn, initTimeout, stop.Token).ConfigureAwait(false);
            if (leaderInfo.Type != PacketType.LeaderInfo) throw new InvalidDataException($"expected LEADERINFO, got {leaderInfo.Type}");
            long epoch = leaderInfo.Zxid >> 32;
            if (epoch < peer.AcceptedEpoch) throw new InvalidDataException($"the leader proposes epoch {epoch}, but this server accepted {peer.AcceptedEpoch}");
            if (epoch > peer.AcceptedEpoch) peer.AcceptedEpoch = epoch;
            var ackData = new JuteWriter(8);
            ackData.WriteLong(peer.CurrentEpoch);
            conn.Send(PacketType.AckEpoch, peer.TxnLog.LastZxid, ackData.ToArray());

            var sync = await ReceiveAsync(conn, initTimeout, stop.Token).ConfigureAwait(false);
            switch (sync.Type)
            {
                case PacketType.Diff: break;
                case PacketType.Trunc: peer.TruncateAfter(sync.Zxid); break;
                case PacketType.Snap: peer.InstallSnapshot(sync.Zxid, sync.Data); break;
                default: throw new InvalidDataException($"expected DIFF, TRUNC or SNAP, got {sync.Type}");
            }
            _log.LogInformation("Following server {Leader} in epoch {Epoch}: {Sync} at 0x{Zxid:x}", leaderId, epoch, sync.Type, sync.Zxid);
            peer.Sessions.AdoptSecret(leaderInfo.Data);
            peer.SaveSecret(leaderInfo.Data);

            var leader = conn;
            logStage = new SyncStage<Proposal>(peer.TxnLog, peer.Loggers.CreateLogger("Keeper.Sync"));
            role = RoleProcessor.ForFollower(peer, leader, logStage);
            var processor = role.Processor;
            logStage.Start(batch => Logged(batch, leader, processor, epoch));
            long lastQueued = peer.TxnLog.LastZxid;
            processor.Post(new LoggedUpToWork(lastQueued)); // what the log held before this term is on disk already
            watchdog = WatchLeaderAsync(conn, syncLimitMs, stop.Token);

            while (!stop.IsCancellationRequested)
            {
                var p = await conn.ReceiveAsync(stop.Token).ConfigureAwait(false);
                switch (p.Type)
                {
                    case PacketType.Proposal:
                        var proposal = Proposal.Decode(p.Zxid, p.Data);
                        _proposed[p.Zxid] = proposal;
                        if (p.Zxid > lastQueued)
                        {
                            logStage.Submit(proposal);
                            lastQueued = p.Zxid;
                        }
                        else processor.Post(new LoggedUpToWork(p.Zxid)); // already in this server's log
                        break;
                    case PacketType.Commit:
                        if (!_proposed.Remove(p.Zxid, out var committed))
                            throw new InvalidDataException($"COMMIT of 0x{p.Zxid:x}, which was never proposed here");
                        processor.Post(new LeaderCommitWork(committed));
                        break;
                    case PacketType.Answer: processor.Post(new LeaderAnswerWork(ForwardedAnswer.Decode(p.Data))); break;
                    case PacketType.NewLeader:
                        if (p.Data is { Length: > 0 } leaderConfig)
                        {
                            string text = System.Text.Encoding.UTF8.GetString(leaderConfig);
                            processor.Post(new OwnerWork(() => peer.AdoptLeaderMembership(text)));
                        }
                        logStage.Submit(new Proposal(p.Zxid, 0, 0, 0, null));
                        break;
                    case PacketType.UpToDate:
                        string mode = peer.FollowerMode;
                        peer.StartServing(role, mode);
                        _log.LogInformation("Up to date with the leader: serving clients as {Mode}", mode);
                        break;
                    case PacketType.Ping: processor.Post(new PingWork()); break;
                    case PacketType.Probe: conn.Send(PacketType.ProbeAck, p.Zxid); break;
                    default: _log.LogWarning("Unexpected {Type} from the leader", p.Type); break;
                }
            }
        }
        catch (Exception e) when (e is QuorumConnectionClosedException or InvalidDataException or TimeoutException or SocketException or JuteException or IOException)
        {
            _log.LogWarning("Following server {Leader} ended: {Reason}", leaderId, e.Message);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
        finally
        {
            stop.Cancel();
            peer.StopServing();
            conn?.Close();
            if (watchdog is not null) try { await watchdog.ConfigureAwait(false); } catch (Exception) { }
            if (role is not null) await role.DisposeAsync().ConfigureAwait(false);
            else logStage?.Dispose();
        }
    }

    /// <summary>Log stage thread: acknowledge what is on disk; the NEWLEADER marker makes the epoch current.</summary>
    private void Logged(List<Proposal> batch, QuorumConnection leader, RequestProcessor processor, long epoch)
    {
        long lastTxn = 0;
        foreach (var p in batch)
        {
            if (p.Txn is not null)
            {
                lastTxn = p.Zxid;
                continue;
            }
            if (lastTxn != 0) leader.Send(PacketType.Ack, lastTxn);
            peer.CurrentEpoch = epoch;
            leader.Send(PacketType.Ack, p.Zxid);
        }
        if (lastTxn != 0)
        {
            leader.Send(PacketType.Ack, lastTxn);
            processor.Post(new LoggedUpToWork(lastTxn));
        }
    }

    private async Task<QuorumConnection> ConnectAsync(TimeSpan timeout, CancellationToken ct)
    {
        var endpoint = peer.QuorumEndpoint(peer.Members[(int)leaderId]);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try { return await QuorumConnection.ConnectAsync(endpoint, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false); }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                // The leader may not listen yet: it opens its quorum port when it learns it leads.
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"cannot reach leader {leaderId} at {endpoint}: {e.Message}");
                await Task.Delay(20, ct).ConfigureAwait(false);
            }
        }
    }

    private static async Task<QuorumPacket> ReceiveAsync(QuorumConnection conn, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try { return await conn.ReceiveAsync(cts.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { throw new TimeoutException("the leader did not answer in time"); }
    }

    /// <summary>A leader silent for syncLimit ticks is gone (paused, cut off, or dead without a reset).</summary>
    private async Task WatchLeaderAsync(QuorumConnection conn, long syncLimitMs, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay((int)Math.Max(10, syncLimitMs / 4), ct).ConfigureAwait(false);
                if (Environment.TickCount64 - conn.LastReceivedTicks > syncLimitMs)
                {
                    _log.LogWarning("No word from leader {Leader} for {Ms} ms", leaderId, syncLimitMs);
                    conn.Close();
                    return;
                }
            }
        }
        catch (OperationCanceledException) { }
    }
}
