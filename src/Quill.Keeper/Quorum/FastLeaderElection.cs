using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Quill.Keeper.Quorum;

/// <summary>
/// ZooKeeper's fast leader election. A looking server votes for itself (its id, last logged zxid, current epoch) and
/// tells every voter; on hearing a better candidate (<see cref="Vote.Beats"/>) in the same round it switches its vote
/// and tells everyone again; a newer round resets what it heard. When a quorum's votes in this round agree with its
/// own, it waits a moment for a better vote, then decides: leading if the candidate is itself, following otherwise.
/// A server that joins late hears from servers already following or leading and joins them once a quorum of those
/// names the same leader and the leader itself says it leads; an observer (no vote) joins only that way.
/// </summary>
public sealed class FastLeaderElection
{
    /// <summary>How long to wait for a better vote once a quorum agrees (ZooKeeper's finalizeWait).</summary>
    private static readonly TimeSpan s_finalizeWait = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_maxNotificationInterval = TimeSpan.FromSeconds(60);

    private readonly long _myId;
    private readonly Func<IReadOnlySet<long>> _votersNow;
    private readonly ElectionTransport _transport;
    private readonly ILogger _log;
    private readonly object _lock = new();
    private long _logicalClock;
    private Vote _proposal;
    private PeerState _state = PeerState.Looking;
    /// <summary>What this server answers to a looking peer while it follows or leads: the vote it decided on.</summary>
    private Vote _current;

    /// <summary><paramref name="voters"/> gives the voters of the membership in force (a reconfig changes it).</summary>
    public FastLeaderElection(long myId, Func<IReadOnlySet<long>> voters, ElectionTransport transport, ILogger log)
    {
        _myId = myId;
        _votersNow = voters;
        _transport = transport;
        _log = log;
        transport.OnReceived = OnReceived;
    }

    public TimeSpan LastElectionTime { get; private set; }

    /// <summary>Called when this server starts following or leading (or stops): what looking peers are told.</summary>
    public void SetState(PeerState state, Vote decided)
    {
        lock (_lock)
        {
            _state = state;
            _current = decided;
        }
    }

    /// <summary>Answers a looking peer at once when this server is not looking, or is in a newer round.</summary>
    private void OnReceived(Notification n)
    {
        bool looking;
        Vote answer;
        PeerState state;
        lock (_lock)
        {
            looking = _state == PeerState.Looking;
            state = _state;
            answer = looking ? _proposal with { ElectionEpoch = _logicalClock } : _current;
        }
        if (looking)
        {
            _transport.Incoming.Writer.TryWrite(n);
            // A peer behind in rounds learns of ours straight away.
            if (n.State == PeerState.Looking && n.Vote.ElectionEpoch < answer.ElectionEpoch) _transport.Send(n.Sender, state, answer);
        }
        else if (n.State == PeerState.Looking)
        {
            _transport.Send(n.Sender, state, answer);
            // Kept too: when this server's own term is ending (it lost the same leader a moment later), the vote
            // counts in the election it is about to start, instead of waiting for the peer to send it again.
            _transport.Incoming.Writer.TryWrite(n);
        }
    }

    private IReadOnlySet<long> Voters => _votersNow();

    private bool IsQuorum(int count) => count > Voters.Count / 2;

    public async Task<Vote> LookForLeaderAsync(long lastZxid, long currentEpoch, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var reader = _transport.Incoming.Reader;
        // What servers said while this one was following or leading is stale; votes of servers already looking are
        // not (a peer that noticed the leader's loss a moment earlier has voted already), and are kept.
        var early = new List<Notification>();
        while (reader.TryRead(out var queued))
            if (queued.State == PeerState.Looking) early.Add(queued);
        foreach (var n in early) _transport.Incoming.Writer.TryWrite(n);
        var received = new Dictionary<long, Vote>();      // this round's votes from looking servers
        var outOfElection = new Dictionary<long, (PeerState State, Vote Vote)>(); // servers already following or leading
        Vote mine = new(_myId, lastZxid, currentEpoch, 0);
        lock (_lock)
        {
            _state = PeerState.Looking;
            _logicalClock++;
            _proposal = mine with { ElectionEpoch = _logicalClock };
        }
        SendToAll();
        var wait = s_finalizeWait;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            Notification n;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(wait);
                try { n = await reader.ReadAsync(timeout.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // Nothing heard: say it again (peers may have missed it, or just started), waiting longer each time.
                    SendToAll();
                    wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, s_maxNotificationInterval.Ticks));
                    continue;
                }
            }
            if (!Voters.Contains(n.Sender)) continue;
            Vote proposal;
            long clock;
            lock (_lock) { proposal = _proposal; clock = _logicalClock; }

            switch (n.State)
            {
                // An observer has no vote: it waits to hear which leader the voters settled on.
                case PeerState.Looking when !Voters.Contains(_myId):
                    break;
                case PeerState.Looking:
                    if (n.Vote.ElectionEpoch > clock)
                    {
                        received.Clear();
                        clock = n.Vote.ElectionEpoch;
                        proposal = (n.Vote.Beats(mine) ? n.Vote : mine) with { ElectionEpoch = clock };
                        lock (_lock) { _logicalClock = clock; _proposal = proposal; }
                        SendToAll();
                    }
                    else if (n.Vote.ElectionEpoch < clock) continue;
                    else if (n.Vote.Beats(proposal))
                    {
                        proposal = n.Vote with { ElectionEpoch = clock };
                        lock (_lock) _proposal = proposal;
                        SendToAll();
                    }
                    received[n.Sender] = n.Vote;
                    received[_myId] = proposal;
                    if (IsQuorum(received.Values.Count(v => v.SameCandidate(proposal))))
                    {
                        if (await BetterVoteArrivesAsync(reader, proposal, ct).ConfigureAwait(false)) continue;
                        return Decide(proposal, watch);
                    }
                    break;

                case PeerState.Following or PeerState.Leading:
                    // Servers that already settled: join them once a quorum names one leader and that leader leads.
                    outOfElection[n.Sender] = (n.State, n.Vote);
                    var named = n.Vote;
                    // Settled servers may have joined in different rounds: they agree when they name the same leader
                    // in the same epoch (ZooKeeper compares only those for votes outside an election).
                    int agreeing = outOfElection.Values.Count(o => o.Vote.Leader == named.Leader && o.Vote.PeerEpoch == named.PeerEpoch);
                    bool leaderLeads = named.Leader == _myId
                        ? false // it cannot be us: we are looking
                        : outOfElection.TryGetValue(named.Leader, out var l) && l.State == PeerState.Leading;
                    // Counting ourselves: we would follow too.
                    if (leaderLeads && IsQuorum(agreeing + 1))
                    {
                        lock (_lock) _logicalClock = named.ElectionEpoch;
                        return Decide(named, watch);
                    }
                    break;
            }
        }
    }

    /// <summary>The finalize wait: a better vote in it means the election goes on (the vote goes back in the queue).</summary>
    private async Task<bool> BetterVoteArrivesAsync(System.Threading.Channels.ChannelReader<Notification> reader, Vote proposal, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + s_finalizeWait;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return false;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(left);
            Notification n;
            try { n = await reader.ReadAsync(timeout.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return false; }
            if (n.State == PeerState.Looking && n.Vote.Beats(proposal) && n.Vote.ElectionEpoch >= proposal.ElectionEpoch)
            {
                _transport.Incoming.Writer.TryWrite(n);
                return true;
            }
        }
    }

    private Vote Decide(Vote vote, Stopwatch watch)
    {
        var state = vote.Leader == _myId ? PeerState.Leading : Voters.Contains(_myId) ? PeerState.Following : PeerState.Observing;
        LastElectionTime = watch.Elapsed;
        lock (_lock)
        {
            _state = state;
            _current = vote with { ElectionEpoch = _logicalClock };
        }
        _transport.ForgetOwedVotes();
        _log.LogInformation("Election done in {Ms} ms: {State}, {Vote}", (long)watch.Elapsed.TotalMilliseconds, state, vote);
        return vote with { ElectionEpoch = _logicalClock };
    }

    private void SendToAll()
    {
        Vote proposal;
        lock (_lock) proposal = _proposal with { ElectionEpoch = _logicalClock };
        foreach (var id in Voters)
            if (id != _myId) _transport.Send(id, PeerState.Looking, proposal);
    }
}
