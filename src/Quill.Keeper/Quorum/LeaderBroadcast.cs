using Microsoft.Extensions.Logging;
using Quill.Keeper.Config;
using Quill.Keeper.Pipeline;
using Quill.Keeper.Protocol;
using Quill.Keeper.Storage;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Quorum;

/// <summary>
/// Zab's broadcast on the leader, as two seams of the pipeline: <see cref="Submit"/> sits between prepare and the
/// leader's own log (each txn is sent to the learners as a PROPOSAL as it is accepted), and <see cref="OnLogged"/>
/// after the log: a txn is committed when it is in the leader's log and a quorum of voters has acknowledged it,
/// strictly in zxid order; then COMMIT goes to the learners and the request goes back to the owner thread to be
/// applied. Refused writes and syncs keep their place in the same line. A sync is answered only after a quorum
/// answered a PROBE sent after the sync arrived: a leader that has been replaced cannot get that, so a sync (and the
/// read after it) never answers from a deposed leader's state.
/// Learners join (<see cref="AddLearner"/>) under the same lock, so each gets one gap-free stream.
/// A reconfig is committed, as in ZooKeeper, on a quorum of the old membership and one of the new; so is every txn
/// proposed while it is outstanding; once it commits the new membership alone counts.
/// </summary>
public sealed class LeaderBroadcast(long epoch, long myId, Membership membership, CommittedWindow window, IRequestStage log, ILogger logger) : IRequestStage
{
    private sealed class Pending(Request request, byte[]? data, Membership? next)
    {
        public Request Request { get; } = request;
        public byte[]? Data { get; } = data;
        /// <summary>The membership a reconfig outstanding when this was proposed would make: it must agree too.</summary>
        public Membership? Next { get; } = next;
        public bool Logged { get; set; }
        public long Round { get; set; }
    }

    private readonly object _lock = new();
    private readonly Queue<Pending> _outstanding = new();
    private readonly Queue<Pending> _unlogged = new();
    private readonly List<LearnerHandler> _learners = [];
    private long _sentRound, _confirmedRound;
    private bool _roundWanted;
    private Membership _current = membership;
    /// <summary>The membership of a reconfig proposed and not yet committed.</summary>
    private Membership? _next;

    /// <summary>Where committed requests go (posted to the owner thread), in order.</summary>
    public Action<List<Request>>? Deliver { get; set; }
    public long Epoch { get; } = epoch;
    public long LastCommitted => window.Last;

    /// <summary>The membership committed last (what the ensemble runs on).</summary>
    public Membership Current
    {
        get { lock (_lock) return _current; }
    }

    /// <summary>A reconfig is proposed and not committed yet: ZooKeeper allows one at a time.</summary>
    public bool ReconfigPending
    {
        get { lock (_lock) return _next is not null; }
    }

    public long ProposalCount { get; private set; }
    public long CommitCount { get; private set; }

    public List<LearnerHandler> Learners
    {
        get { lock (_lock) return [.. _learners]; }
    }

    /// <summary>Owner thread: a request leaves prepare. Txns are proposed at once; everything keeps its place.</summary>
    public void Submit(Request request)
    {
        lock (_lock)
        {
            byte[]? data = null;
            if (request.Txn is ReconfigTxn reconfig)
                _next = Membership.Parse(System.Text.Encoding.UTF8.GetString(reconfig.Config));
            if (request.Txn is { } txn)
            {
                // Encoded once: the proposal carries these bytes, and the leader's own log writes them too.
                var body = txn.Encode();
                request.EncodedTxn = body;
                data = Proposal.Encode(request.Session.Id, request.Xid, request.Time, (int)txn.Type, body);
                foreach (var l in _learners) l.SendProposal(request.Zxid, data);
                ProposalCount++;
            }
            var pending = new Pending(request, data, request.Txn is null ? null : _next);
            if (IsSync(request))
            {
                pending.Round = _sentRound + 1;
                if (_confirmedRound == _sentRound) SendRound();
                else _roundWanted = true;
            }
            _outstanding.Enqueue(pending);
            _unlogged.Enqueue(pending);
        }
        log.Submit(request);
    }

    private static bool IsSync(Request r) => r.Txn is null && r.Type == OpCode.Sync && r.Error == ErrorCode.Ok;

    private void SendRound()
    {
        _sentRound++;
        foreach (var l in _learners) l.Send(PacketType.Probe, _sentRound);
    }

    /// <summary>Sync stage thread: a batch is on the leader's disk.</summary>
    public void OnLogged(List<Request> batch)
    {
        lock (_lock)
        {
            foreach (var r in batch)
            {
                var p = _unlogged.Dequeue();
                if (p.Request != r) throw new InvalidOperationException("the log returned requests out of order");
                p.Logged = true;
            }
            TryCommit();
        }
    }

    public void Ack(LearnerHandler from, long zxid)
    {
        lock (_lock)
        {
            from.Acknowledged(zxid);
            if (zxid <= from.AckedZxid) return;
            from.AckedZxid = zxid;
            TryCommit();
        }
    }

    public void ProbeAck(LearnerHandler from, long round)
    {
        lock (_lock)
        {
            if (round <= from.ProbeAcked) return;
            from.ProbeAcked = round;
            CheckRound();
            TryCommit();
        }
    }

    /// <summary>
    /// Under the lock: the open probe round is confirmed once a quorum of counted voters answered it. Checked again
    /// whenever who counts changes (a learner starts counting, or leaves), not only when an answer arrives.
    /// </summary>
    private void CheckRound()
    {
        if (_confirmedRound >= _sentRound || !Agree(_current, l => l.ProbeAcked >= _sentRound)) return;
        _confirmedRound = _sentRound;
        if (_roundWanted)
        {
            _roundWanted = false;
            SendRound();
        }
    }

    /// <summary>
    /// Whether a quorum of <paramref name="of"/> agrees: the leader (when it is one of its voters) and the synced
    /// learners among its voters that satisfy <paramref name="agrees"/>.
    /// </summary>
    private bool Agree(Membership of, Func<LearnerHandler, bool> agrees)
    {
        var ids = new HashSet<long>();
        if (of.Voters.Contains(myId)) ids.Add(myId);
        foreach (var l in _learners)
            if (l.CountsAcks && agrees(l)) ids.Add(l.Sid);
        return of.IsQuorum(ids);
    }

    /// <summary>Whether the voters of <paramref name="of"/> that are synced here (and the leader) make a quorum of it.</summary>
    public bool QuorumSynced(Membership of)
    {
        lock (_lock) return Agree(of, _ => true);
    }

    private void TryCommit()
    {
        List<Request>? done = null;
        while (_outstanding.TryPeek(out var head))
        {
            var r = head.Request;
            if (!head.Logged) break;
            if (r.Txn is not null && !Agree(_current, l => l.AckedZxid >= r.Zxid)) break;
            if (r.Txn is not null && head.Next is { } next && !Agree(next, l => l.AckedZxid >= r.Zxid)) break;
            if (IsSync(r) && head.Round > _confirmedRound) break;
            _outstanding.Dequeue();
            if (r.Txn is not null)
            {
                foreach (var l in _learners) l.Send(PacketType.Commit, r.Zxid);
                window.Add(r.Zxid, head.Data!);
                CommitCount++;
                if (r.Txn is ReconfigTxn)
                {
                    _current = _next!;
                    _next = null;
                    logger.LogInformation("Reconfig 0x{Zxid:x} committed: voters now {Voters}", r.Zxid, string.Join(",", _current.Voters.Order()));
                }
            }
            else if (r.Forwarder is LearnerHandler origin)
                origin.Send(PacketType.Answer, 0, new ForwardedAnswer(r.Session.Id, r.Xid, r.Error, r.FailedMulti).Encode());
            (done ??= []).Add(r);
        }
        if (done is not null) Deliver!(done);
    }

    /// <summary>
    /// Owner thread (the tree stands still): brings a learner whose log ends at <paramref name="learnerZxid"/> up to
    /// the leader's history and adds it to the broadcast. DIFF when its last txn is in the window; TRUNC first when it
    /// logged txns of the same epoch that were never committed; SNAP (the state as applied here) otherwise.
    /// </summary>
    public void AddLearner(LearnerHandler learner, long learnerZxid, Func<StateImage> capture)
    {
        bool needsSnapshot;
        lock (_lock)
            needsSnapshot = !(learnerZxid == window.Last || window.Contains(learnerZxid))
                && !(window.Below(learnerZxid) is { } c && c >> 32 == learnerZxid >> 32);
        // Encoded outside the lock (acks, commits and pings go on meanwhile); on the owner thread the tree stands
        // still, and what is committed after the image is in the window, sent below.
        (long Zxid, byte[] Body)? snapshot = null;
        if (needsSnapshot)
        {
            var image = capture();
            snapshot = (image.Zxid, image.Encode());
        }
        lock (_lock)
        {
            // One connection per server: a server that reconnected before its old connection broke must not count twice.
            foreach (var stale in _learners.Where(l => l.Sid == learner.Sid).ToList())
            {
                _learners.Remove(stale);
                stale.Close();
            }
            long from;
            if (snapshot is { } snap)
            {
                if (snap.Zxid < window.Start)
                    throw new InvalidOperationException("the committed window no longer reaches the applied state");
                learner.ExpectLargeSend(snap.Body.Length);
                learner.Send(PacketType.Snap, snap.Zxid, snap.Body);
                from = snap.Zxid;
            }
            else if (learnerZxid == window.Last || window.Contains(learnerZxid))
            {
                learner.Send(PacketType.Diff, window.Last);
                from = learnerZxid;
            }
            else if (window.Below(learnerZxid) is { } common && common >> 32 == learnerZxid >> 32)
            {
                // Same epoch: the learner's log holds the leader's history up to `common`, then txns nobody committed.
                learner.Send(PacketType.Trunc, common);
                from = common;
            }
            else
            {
                // The window moved on between the two looks: the learner connects again and gets a snapshot then.
                throw new InvalidOperationException("the committed window moved past the learner while it was being synced");
            }
            int sent = 0;
            foreach (var (zxid, data) in window.After(from))
            {
                learner.Send(PacketType.Proposal, zxid, data);
                learner.Send(PacketType.Commit, zxid);
                sent++;
            }
            foreach (var p in _outstanding)
                if (p.Data is not null) learner.Send(PacketType.Proposal, p.Request.Zxid, p.Data);
            // NEWLEADER carries the leader's membership, as ZooKeeper's does: a learner takes it when newer.
            learner.Send(PacketType.NewLeader, Epoch << 32, System.Text.Encoding.UTF8.GetBytes(_current.ToString()));
            if (_sentRound > _confirmedRound) learner.Send(PacketType.Probe, _sentRound); // the open round reaches it too
            _learners.Add(learner);
            logger.LogInformation("Syncing server {Sid} (last zxid 0x{Their:x}) from 0x{From:x}: {Count} committed txns, {Outstanding} proposals",
                learner.Sid, learnerZxid, from, sent, _outstanding.Count(p => p.Data is not null));
        }
    }

    public void RemoveLearner(LearnerHandler learner)
    {
        lock (_lock)
        {
            if (!_learners.Remove(learner)) return;
            CheckRound();
            TryCommit();
        }
    }

    /// <summary>Voting learners heard from since <paramref name="sinceTicks"/>, plus the leader: is the quorum still there?</summary>
    public bool HasQuorum(long sinceTicks)
    {
        lock (_lock) return Agree(_current, l => l.LastReceivedTicks >= sinceTicks);
    }

    /// <summary>Learner acked NEWLEADER: its acks count from now on.</summary>
    public void StartCounting(LearnerHandler learner)
    {
        lock (_lock)
        {
            learner.CountsAcks = true;
            CheckRound();
            TryCommit();
        }
    }
}
