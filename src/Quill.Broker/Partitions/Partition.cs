using Quill.Broker.Log;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Partitions;

/// <summary>
/// A partition this broker holds a replica of (Kafka's Partition): its log, and its role. As the leader it stamps its
/// leader epoch on every batch it appends, tracks each follower's log end offset from the follower's fetches, moves the
/// high watermark to the smallest log end among the ISR, answers acks=all produces once the high watermark covers them,
/// and decides when a follower joins or leaves the ISR (the Keeper write is the <see cref="Replication.IsrManager"/>'s).
/// As a follower it only holds the log its fetcher appends to, with the high watermark its leader reported.
/// <para>
/// A signal wakes fetches waiting for data (long polls) at each append and each high watermark move; a transaction
/// marker written to the log also fires it (it moves the last stable offset that read_committed fetches wait on). The
/// log has its own lock; the replica bookkeeping takes <c>_lock</c>; the waiting fetches are a set under their own lock,
/// each fetch adding its own waiter and taking it out again when it stops waiting, so a long poll that times out on a
/// partition nobody writes to leaves nothing behind.
/// </para>
/// </summary>
public sealed class Partition
{
    private readonly object _lock = new();
    private readonly Dictionary<int, FollowerState> _followers = [];
    private readonly List<DelayedProduce> _delayedProduces = [];
    private readonly object _waitersLock = new();
    private HashSet<TaskCompletionSource> _appendWaiters = [];
    private HashSet<TaskCompletionSource>? _spareWaiters = [];
    private int _waiterCount;
    private volatile bool _isLeader;
    private volatile int[] _isr = [];
    private int[] _replicas = [];
    private long _leaderEpochStartOffset;
    private bool _isrChangeInFlight;

    public Partition(string topic, int index, Guid topicId, PartitionLog log, int leaderEpoch)
    {
        Topic = topic;
        Index = index;
        TopicId = topicId;
        Log = log;
        LeaderEpoch = leaderEpoch;
        // However the log is written (produce, a coordinator's records, a transaction marker), the high watermark of a
        // leader alone in its ISR moves with it, and waiting fetches wake.
        log.Appended += OnAppended;
        log.ControlMarkerAppended += OnAppended;
    }

    public string Topic { get; }
    public int Index { get; }
    public Guid TopicId { get; }
    public PartitionLog Log { get; }
    public int LeaderEpoch { get; set; }

    /// <summary>Whether this broker leads the partition (since <see cref="MakeLeader"/>, until <see cref="MakeFollower"/>).</summary>
    public bool IsLeader => _isLeader;
    /// <summary>The leader's broker id as last learned (this broker's id when it leads; -1 when none is live).</summary>
    public int LeaderId { get; private set; } = -1;
    /// <summary>The ISR as written in the partition's state znode (empty when the partition leads alone without one).</summary>
    public int[] Isr => _isr;
    /// <summary>The version of the state znode the ISR came from: the leader's ISR writes are conditional on it.</summary>
    public int StateZkVersion { get; private set; } = -1;
    /// <summary>This broker's id (set when the partition is given a role).</summary>
    public int LocalBrokerId { get; private set; } = -1;
    /// <summary>Raised (outside the lock) when the leader wants the ISR changed: a follower caught up or fell behind.</summary>
    public Action<Partition>? IsrChangeWanted { get; set; }

    public long HighWatermark => Log.HighWatermark;
    /// <summary>acks=all produces waiting on this partition's high watermark (the produce purgatory's size).</summary>
    public int DelayedProduceCount { get { lock (_lock) return _delayedProduces.Count; } }

    /// <summary>
    /// Becomes (or stays) the leader: a new leader epoch starts a fresh view of the followers (each in the ISR is taken
    /// as caught up now, its log end unknown until it fetches), and the high watermark moves only when every ISR member
    /// has the records.
    /// </summary>
    public void MakeLeader(int localBrokerId, int leaderEpoch, int[] replicas, int[] isr, int stateZkVersion, long nowMs)
    {
        List<DelayedProduce>? failed = null;
        lock (_lock)
        {
            bool newTerm = !_isLeader || LeaderEpoch != leaderEpoch || LocalBrokerId != localBrokerId;
            LocalBrokerId = localBrokerId;
            LeaderId = localBrokerId;
            _replicas = replicas;
            if (newTerm)
            {
                LeaderEpoch = leaderEpoch;
                _leaderEpochStartOffset = Log.LogEndOffset;
                _followers.Clear();
                foreach (int r in replicas)
                    if (r != localBrokerId) _followers[r] = new FollowerState { LastCaughtUpMs = isr.Contains(r) ? nowMs : 0 };
                _isrChangeInFlight = false;
                Log.UseReplicatedHighWatermark(Log.HighWatermark);
                _isLeader = true;
            }
            else
            {
                // Same term, new replica set (a reassignment adds or drops replicas): follow the added ones from now.
                foreach (int r in replicas)
                    if (r != localBrokerId && !_followers.ContainsKey(r)) _followers[r] = new FollowerState();
                foreach (int gone in _followers.Keys.Where(r => !replicas.Contains(r)).ToList()) _followers.Remove(gone);
            }
            if (newTerm || stateZkVersion >= StateZkVersion)
            {
                _isr = isr.Length == 0 ? [localBrokerId] : isr;
                StateZkVersion = stateZkVersion;
            }
            MaybeIncrementHighWatermarkLocked(ref failed);
        }
        Complete(failed);
        NotifyAppended();
    }

    /// <summary>Becomes (or stays) a follower of <paramref name="leaderId"/>: acks=all produces still waiting fail NOT_LEADER_OR_FOLLOWER.</summary>
    public void MakeFollower(int localBrokerId, int leaderId, int leaderEpoch, int[] replicas, int[] isr, int stateZkVersion)
    {
        List<DelayedProduce> failed;
        lock (_lock)
        {
            if (_isLeader) Log.UseReplicatedHighWatermark(Log.HighWatermark);
            _isLeader = false;
            LocalBrokerId = localBrokerId;
            LeaderId = leaderId;
            LeaderEpoch = leaderEpoch;
            _replicas = replicas;
            _isr = isr;
            StateZkVersion = stateZkVersion;
            _followers.Clear();
            failed = [.. _delayedProduces];
            _delayedProduces.Clear();
        }
        foreach (var d in failed) d.Done.TrySetResult(KafkaError.NotLeaderOrFollower);
        NotifyAppended();
    }

    /// <summary>Appends a produce request's batches (see <see cref="PartitionLog.Append"/>) and wakes waiting fetches.</summary>
    public LogAppendInfo Append(ReadOnlyMemory<byte> records) => Log.Append(records, LeaderEpoch);

    private void OnAppended()
    {
        MaybeIncrementHighWatermark();
        NotifyAppended();
    }

    /// <summary>Writes a transaction marker with this partition's leader epoch (see <see cref="PartitionLog.AppendControlMarker"/>); waiting fetches wake.</summary>
    public long AppendControlMarker(long producerId, short producerEpoch, bool commit, int coordinatorEpoch) =>
        Log.AppendControlMarker(producerId, producerEpoch, commit, coordinatorEpoch, LeaderEpoch);

    /// <summary>
    /// A follower fetched from <paramref name="fetchOffset"/>: everything below it is on that follower. Updates its log
    /// end and when it was last caught up (Kafka's rule: caught up now if it asked from the log end, or as of its
    /// previous fetch if it asked from where the log ended then), moves the high watermark, and asks for the follower to
    /// join the ISR once it has reached the high watermark and this leader's epoch.
    /// </summary>
    public void RecordFollowerFetch(int replicaId, long fetchOffset, long nowMs)
    {
        List<DelayedProduce>? completed = null;
        bool wantIsrChange = false, moved;
        lock (_lock)
        {
            if (!_isLeader || !_followers.TryGetValue(replicaId, out var follower)) return;
            long leaderEnd = Log.LogEndOffset;
            if (fetchOffset >= leaderEnd) follower.LastCaughtUpMs = nowMs;
            else if (fetchOffset >= follower.LastFetchLeaderEnd) follower.LastCaughtUpMs = Math.Max(follower.LastCaughtUpMs, follower.LastFetchMs);
            follower.LogEndOffset = fetchOffset;
            follower.LastFetchLeaderEnd = leaderEnd;
            follower.LastFetchMs = nowMs;
            moved = MaybeIncrementHighWatermarkLocked(ref completed);
            wantIsrChange = !_isrChangeInFlight && !_isr.Contains(replicaId)
                && fetchOffset >= Log.HighWatermark && fetchOffset >= _leaderEpochStartOffset;
        }
        Complete(completed);
        if (moved) NotifyAppended(); // consumers waiting for the high watermark to pass what they wait for
        if (wantIsrChange) IsrChangeWanted?.Invoke(this);
    }

    /// <summary>
    /// The ISR this leader wants now (null if it is right): followers not caught up for <paramref name="lagTimeMaxMs"/>
    /// leave; followers that reached the high watermark and this epoch join. Marks a change in flight until
    /// <see cref="IsrChangeDone"/>, so only one write is outstanding.
    /// </summary>
    public int[]? ProposeIsr(long nowMs, long lagTimeMaxMs)
    {
        lock (_lock)
        {
            if (!_isLeader || _isrChangeInFlight) return null;
            long hw = Log.HighWatermark;
            var wanted = new List<int> { LocalBrokerId };
            foreach (int r in _replicas)
            {
                if (r == LocalBrokerId || !_followers.TryGetValue(r, out var f)) continue;
                bool inIsr = _isr.Contains(r);
                if (inIsr && nowMs - f.LastCaughtUpMs <= lagTimeMaxMs) wanted.Add(r);
                else if (!inIsr && f.LogEndOffset >= hw && f.LogEndOffset >= _leaderEpochStartOffset && nowMs - f.LastCaughtUpMs <= lagTimeMaxMs) wanted.Add(r);
            }
            var proposed = _replicas.Where(wanted.Contains).ToArray();
            if (proposed.Length == _isr.Length && proposed.All(_isr.Contains)) return null;
            _isrChangeInFlight = true;
            return proposed;
        }
    }

    /// <summary>The ISR write finished: written (with the node's new version) or not (null; the next check proposes again).</summary>
    public void IsrChangeDone(int leaderEpoch, int[]? isr, int newZkVersion)
    {
        List<DelayedProduce>? completed = null;
        lock (_lock)
        {
            _isrChangeInFlight = false;
            if (isr is null || !_isLeader || LeaderEpoch != leaderEpoch) return;
            _isr = isr;
            StateZkVersion = newZkVersion;
            MaybeIncrementHighWatermarkLocked(ref completed);
        }
        Complete(completed);
        NotifyAppended();
    }

    private void MaybeIncrementHighWatermark()
    {
        List<DelayedProduce>? completed = null;
        bool moved;
        lock (_lock) moved = MaybeIncrementHighWatermarkLocked(ref completed);
        Complete(completed);
        if (moved) NotifyAppended();
    }

    /// <summary>The leader's high watermark: the smallest log end among the ISR (a follower not heard from yet holds it).</summary>
    private bool MaybeIncrementHighWatermarkLocked(ref List<DelayedProduce>? completed)
    {
        if (!_isLeader) return false;
        long hw = Log.LogEndOffset;
        foreach (int r in _isr)
        {
            if (r == LocalBrokerId) continue;
            hw = Math.Min(hw, _followers.TryGetValue(r, out var f) ? f.LogEndOffset : -1);
        }
        if (hw <= Log.HighWatermark) return false;
        Log.UpdateHighWatermark(hw);
        hw = Log.HighWatermark;
        for (int i = _delayedProduces.Count - 1; i >= 0; i--)
        {
            var d = _delayedProduces[i];
            if (d.RequiredOffset > hw) continue;
            (completed ??= []).Add(d with { Error = _isr.Length >= d.MinIsr ? KafkaError.None : KafkaError.NotEnoughReplicasAfterAppend });
            _delayedProduces.RemoveAt(i);
        }
        return true;
    }

    private static void Complete(List<DelayedProduce>? done)
    {
        if (done is null) return;
        foreach (var d in done) d.Done.TrySetResult(d.Error);
    }

    /// <summary>Whether an acks=all produce may append now: NOT_ENOUGH_REPLICAS while the ISR is below min.insync.replicas.</summary>
    public KafkaError CheckEnoughReplicas(int minIsr) =>
        _isLeader && _isr.Length < minIsr && _isr.Length > 0 ? KafkaError.NotEnoughReplicas : KafkaError.None;

    /// <summary>
    /// acks=all (Kafka's delayed produce): completes once the high watermark reaches <paramref name="requiredOffset"/>
    /// (NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below <paramref name="minIsr"/> meanwhile),
    /// NOT_LEADER_OR_FOLLOWER if leadership moves first, REQUEST_TIMED_OUT after <paramref name="timeout"/>.
    /// </summary>
    public async Task<KafkaError> WaitForHighWatermarkAsync(long requiredOffset, int minIsr, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        var waiter = new DelayedProduce(requiredOffset, minIsr, new TaskCompletionSource<KafkaError>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_lock)
        {
            if (!_isLeader) return KafkaError.NotLeaderOrFollower;
            if (Log.HighWatermark >= requiredOffset) return _isr.Length >= minIsr ? KafkaError.None : KafkaError.NotEnoughReplicasAfterAppend;
            _delayedProduces.Add(waiter);
        }
        try
        {
            return await waiter.Done.Task.WaitAsync(timeout, time, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return KafkaError.RequestTimedOut;
        }
        catch (OperationCanceledException)
        {
            return KafkaError.RequestTimedOut;
        }
        finally
        {
            lock (_lock) _delayedProduces.Remove(waiter);
        }
    }

    /// <summary>The follower's high watermark: what its leader reported, never past its own log end.</summary>
    public void UpdateFollowerHighWatermark(long leaderHighWatermark)
    {
        if (Log.UpdateHighWatermark(Math.Min(leaderHighWatermark, Log.LogEndOffset))) NotifyAppended();
    }

    /// <summary>
    /// Completes <paramref name="waiter"/> at the next append or high watermark move; the caller adds it before it reads,
    /// so nothing appended after the read is missed, and removes it with <see cref="RemoveAppendWaiter"/> when it stops waiting.
    /// </summary>
    public void AddAppendWaiter(TaskCompletionSource waiter)
    {
        lock (_waitersLock)
        {
            if (_appendWaiters.Add(waiter)) Volatile.Write(ref _waiterCount, _appendWaiters.Count);
        }
    }

    /// <summary>How many fetches wait on this partition now.</summary>
    public int WaitingFetches => Volatile.Read(ref _waiterCount);

    public void RemoveAppendWaiter(TaskCompletionSource waiter)
    {
        lock (_waitersLock)
        {
            if (_appendWaiters.Remove(waiter)) Volatile.Write(ref _waiterCount, _appendWaiters.Count);
        }
    }

    /// <summary>Wakes every waiting fetch; also used when the partition goes away so they answer at once.</summary>
    public void NotifyAppended()
    {
        if (Volatile.Read(ref _waiterCount) == 0) return;
        HashSet<TaskCompletionSource> fired;
        lock (_waitersLock)
        {
            if (_appendWaiters.Count == 0) return;
            fired = _appendWaiters;
            _appendWaiters = _spareWaiters ?? [];
            _spareWaiters = null;
            Volatile.Write(ref _waiterCount, 0);
        }
        foreach (var waiter in fired) waiter.TrySetResult();
        fired.Clear();
        lock (_waitersLock) _spareWaiters ??= fired;
    }

    public override string ToString() => $"{Topic}-{Index}";

    /// <summary>What the leader knows of one follower (Kafka's Replica).</summary>
    private sealed class FollowerState
    {
        /// <summary>The follower's log end: the offset it last fetched from (-1 until it fetches in this leader's term).</summary>
        public long LogEndOffset = -1;
        public long LastCaughtUpMs;
        public long LastFetchLeaderEnd = -1;
        public long LastFetchMs;
    }

    private sealed record DelayedProduce(long RequiredOffset, int MinIsr, TaskCompletionSource<KafkaError> Done)
    {
        public KafkaError Error { get; init; }
    }
}
