using Microsoft.Extensions.Logging;
using Quill.Keeper.Pipeline;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Quorum;

/// <summary>
/// The leader's side of one learner's connection: the handshake (FOLLOWERINFO, LEADERINFO, ACKEPOCH), the sync, the
/// NEWLEADER acknowledgement, then its stream of acks, pings, probe answers and forwarded writes.
/// </summary>
public sealed class LearnerHandler(Leader leader, QuorumConnection connection, ILogger log)
{
    public long Sid { get; private set; } = -1;
    public bool Voting { get; private set; }
    /// <summary>Set once the learner acknowledged NEWLEADER; only then do its acks count toward a quorum.</summary>
    public bool CountsAcks { get; set; }
    public long AckedZxid { get; set; }
    public long ProbeAcked { get; set; }
    public long LastReceivedTicks => connection.LastReceivedTicks;
    public bool Synced { get; private set; }
    public string RemoteAddress => connection.RemoteAddress;
    public int QueuedBytes => connection.QueuedBytes;

    /// <summary>How much may wait unsent to a learner (beyond a snapshot being sent) before it is dropped.</summary>
    public const long DefaultQueueLimitBytes = 64L << 20;

    /// <summary>Proposals sent in the broadcast and not acknowledged yet, oldest first, with when they were sent.</summary>
    private readonly System.Collections.Concurrent.ConcurrentQueue<(long Zxid, long Ticks)> _unacked = new();

    public void Send(PacketType type, long zxid, byte[]? data = null) => connection.Send(type, zxid, data);

    /// <summary>
    /// Under the broadcast's lock: a new proposal, which the learner must acknowledge within syncLimit (ZooKeeper's
    /// check of a learner's acks); the proposals of its sync are not timed, it may hold them already.
    /// </summary>
    public void SendProposal(long zxid, byte[] data)
    {
        _unacked.Enqueue((zxid, Environment.TickCount64));
        connection.Send(PacketType.Proposal, zxid, data);
    }

    /// <summary>Under the broadcast's lock: the learner acknowledged everything up to <paramref name="zxid"/>.</summary>
    public void Acknowledged(long zxid)
    {
        while (_unacked.TryPeek(out var oldest) && oldest.Zxid <= zxid) _unacked.TryDequeue(out _);
    }

    /// <summary>When the oldest proposal it has not acknowledged was sent (Environment.TickCount64), if any.</summary>
    public long? OldestUnackedTicks => _unacked.TryPeek(out var oldest) ? oldest.Ticks : null;

    /// <summary>A snapshot of this many bytes is on its way: the queue's bound makes room for it.</summary>
    public void ExpectLargeSend(long bytes) => connection.QueueLimitBytes = DefaultQueueLimitBytes + 2 * bytes;

    /// <summary>Ends this learner's connection (its reader loop then leaves the broadcast).</summary>
    public void Close(string? reason = null) => connection.Close(reason);

    public string? CloseReason => connection.CloseReason;

    public async Task RunAsync(CancellationToken ct)
    {
        connection.QueueLimitBytes = DefaultQueueLimitBytes;
        try
        {
            var info = await ReceiveAsync(PacketType.FollowerInfo, ct).ConfigureAwait(false);
            var r = new JuteReader(info.Data);
            Sid = r.ReadLong();
            long acceptedEpoch = info.Zxid >> 32;
            // A server not in the membership syncs as a learner without a vote, as in ZooKeeper: that is how a server
            // joins by reconfig (a synced quorum of the new membership must be connected before it is proposed).
            if (!leader.IsMember(Sid, out bool voting))
                log.LogInformation("Server {Sid} at {Address} is not in the membership: syncing it without a vote", Sid, RemoteAddress);
            Voting = voting;
            long epoch = await leader.EpochToProposeAsync(Sid, acceptedEpoch, voting, ct).ConfigureAwait(false);
            Send(PacketType.LeaderInfo, epoch << 32, leader.Secret);
            var ack = await ReceiveAsync(PacketType.AckEpoch, ct).ConfigureAwait(false);
            long learnerEpoch = new JuteReader(ack.Data).ReadLong();
            long learnerZxid = ack.Zxid;
            await leader.EpochAckedAsync(Sid, learnerEpoch, learnerZxid, voting, ct).ConfigureAwait(false);
            await leader.SyncLearnerAsync(this, learnerZxid).ConfigureAwait(false);
            Synced = true;
            var broadcast = leader.Broadcast!; // set before any learner is synced

            // From here the stream is live: acks of proposals may come before the NEWLEADER ack.
            while (!ct.IsCancellationRequested)
            {
                var p = await connection.ReceiveAsync(ct).ConfigureAwait(false);
                switch (p.Type)
                {
                    case PacketType.Ack when p.Zxid == leader.Epoch << 32 && !CountsAcks:
                        log.LogInformation("Server {Sid} acknowledged the new leader", Sid);
                        broadcast.StartCounting(this);
                        await leader.NewLeaderAckedAsync(Sid, voting, ct).ConfigureAwait(false);
                        Send(PacketType.UpToDate, 0);
                        break;
                    case PacketType.Ack: broadcast.Ack(this, p.Zxid); break;
                    case PacketType.ProbeAck: broadcast.ProbeAck(this, p.Zxid); break;
                    case PacketType.Ping: leader.Post(new TouchSessionsWork(SessionTouches.Decode(p.Data))); break;
                    case PacketType.Request: leader.Post(new ForwardedWork(this, ForwardedRequest.Decode(p.Data))); break;
                    default:
                        log.LogWarning("Unexpected {Type} from server {Sid}", p.Type, Sid);
                        break;
                }
            }
        }
        catch (Exception e) when (e is QuorumConnectionClosedException or OperationCanceledException or JuteException or InvalidDataException or TimeoutException)
        {
            if (connection.CloseReason is { } why) log.LogWarning("Dropped learner {Sid} ({Address}): {Reason}", Sid, RemoteAddress, why);
            else if (!ct.IsCancellationRequested) log.LogInformation("Lost learner {Sid} ({Address}): {Reason}", Sid, RemoteAddress, e.Message);
        }
        catch (Exception e)
        {
            log.LogError(e, "Learner {Sid} ({Address}) failed", Sid, RemoteAddress);
        }
        finally
        {
            if (leader.Broadcast is { } broadcast) broadcast.RemoveLearner(this);
            connection.Close();
        }
    }

    private async Task<QuorumPacket> ReceiveAsync(PacketType expected, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(leader.InitTimeout);
        QuorumPacket p;
        try { p = await connection.ReceiveAsync(timeout.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { throw new TimeoutException($"no {expected} from {RemoteAddress} in time"); }
        if (p.Type != expected) throw new InvalidDataException($"expected {expected}, got {p.Type}");
        return p;
    }
}
