using Confluent.Kafka;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.Connectors.Kafka;

/// <summary>
/// The output of an exactly-once job: everything every sink task writes between checkpoint N-1 and checkpoint N goes
/// in one Kafka transaction (epoch N). Two transactional producers take turns (epoch N on producer N mod 2), since the
/// sinks already write epoch N+1 while epoch N waits for its checkpoint to complete; one checkpoint at a time means no
/// more than two epochs are ever open.
/// <para>
/// The protocol, checkpoint N (Flink's two-phase commit, with one job-wide transaction per checkpoint):
/// 1. every task passes barrier N; each sink turns to epoch N+1's producer;
/// 2. pre-commit: flush epoch N's producer and add to its transaction the source offsets (for the job's consumer
///    group, for monitoring) and a fresh random marker (an offset in the marker group); the transaction stays open;
/// 3. write chk-N (with the marker) durably;
/// 4. commit the transaction, begin epoch N+2's on the same producer; only then is checkpoint N+1 triggered.
/// A restart first inits both transactional ids, which fences the old producers and aborts (or lets finish) whatever
/// transaction they left, then reads the marker group: chk-N's output is committed iff the marker is chk-N's.
/// Crash windows: before 3, chk-N does not exist, epoch N is aborted and replayed from chk-(N-1). Between 3 and 4,
/// chk-N exists but its marker is not committed: Confluent.Kafka cannot resume a transaction, so epoch N is aborted,
/// chk-N is deleted and the job restores chk-(N-1) (committed, since N was triggered after its commit; storage keeps
/// the newest two) and replays epoch N. After 4: chk-N is restored. One transaction for all the sink tasks is what makes
/// this sound: per-task transactions could be committed for some tasks and not others, with no state to restore that
/// fits both.
/// </para>
/// <para>
/// A scaled-out job keeps the one transaction: the leader's output is the job's, and a follower's sink tasks hand their
/// records to it (<see cref="Forwarding"/>: each sink task a connection to the leader, its barriers with its records). The
/// leader writes them into the transaction of the epoch the channel is in, and a barrier is answered only once the
/// records before it are in their producer: a follower's task acknowledges a checkpoint after its sink's barrier is
/// answered, so when the checkpoint completes its epoch holds every record before it, from every process.
/// </para>
/// </summary>
internal sealed class ExactlyOnceOutput : ITwoPhaseCommit, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly IProducer<byte[]?, byte[]?>[] _producers;
    private readonly string[] _transactionalIds;
    private readonly IConsumer<byte[]?, byte[]?>? _jobGroup;
    private readonly IConsumer<byte[]?, byte[]?>? _markerGroup;
    private readonly TopicPartition _markerPartition;
    private readonly string _markerGroupId;
    /// <summary>A follower's output: where its sink tasks' writers come from (a connection to the leader each); null in the leader.</summary>
    private readonly Func<CancellationToken, IExactlyOnceWriter>? _forward;
    private int _disposed;

    private ExactlyOnceOutput(Func<CancellationToken, IExactlyOnceWriter> forward)
    {
        _forward = forward;
        _producers = [];
        _transactionalIds = [];
        _markerPartition = new TopicPartition("", 0);
        _markerGroupId = "";
    }

    /// <summary>
    /// A follower's part of a scaled-out exactly-once job: no producers of its own; each sink task writes through
    /// <paramref name="forward"/> (to the leader, which owns the job's transactions).
    /// </summary>
    public static ExactlyOnceOutput Forwarding(Func<CancellationToken, IExactlyOnceWriter> forward) => new(forward);

    /// <summary>
    /// Where one sink task writes: the current epoch's transaction here (the leader, or a job in one process), or the
    /// leader through a connection (a follower).
    /// </summary>
    public IExactlyOnceWriter OpenWriter(CancellationToken abort) => _forward?.Invoke(abort) ?? new EpochWriter(this, abort);

    private ExactlyOnceOutput(StreamJobOptions options, string markerTopic)
    {
        _markerGroupId = $"{options.EffectiveGroupId}.checkpoints";
        _markerPartition = new TopicPartition(markerTopic, 0);
        // A transaction stays open for about a checkpoint interval (plus the time a checkpoint takes); the broker
        // aborts one that outlives its timeout.
        int timeoutMs = (int)Math.Clamp(3 * options.CheckpointInterval.TotalMilliseconds, 60_000, 900_000);
        _transactionalIds = [TransactionalId(options, 0), TransactionalId(options, 1)];
        _producers = [.. _transactionalIds.Select(id =>
        {
            var config = KafkaClientConfigs.Producer(options);
            config.TransactionalId = id;
            config.TransactionTimeoutMs = timeoutMs;
            // librdkafka (2.10 and later; its issues #5511 and #5456) can wait forever in SendOffsetsToTransaction when
            // the group's coordinator was a broker that has left the cluster: the client drops that broker once the
            // metadata stops naming it, but its coordinator cache still points there, and it looks the coordinator up
            // again only when some connection of the producer goes up or down (the call's timeout is not applied).
            // Closing idle connections makes that happen: the producer is idle while it waits, so within about this
            // time one of its connections closes, it looks up the new coordinator and the checkpoint goes on.
            config.ConnectionsMaxIdleMs ??= 10_000;
            return new ProducerBuilder<byte[]?, byte[]?>(config).Build();
        })];
        _jobGroup = GroupClient(options, options.EffectiveGroupId);
        _markerGroup = GroupClient(options, _markerGroupId);
    }

    /// <summary>Stable per job, so that a restarted job fences the producers of the run before it.</summary>
    private static string TransactionalId(StreamJobOptions options, int slot) => $"{options.JobName}.output-{slot}";

    /// <summary>A consumer that never reads: it names a group for transactional offset commits and fetches.</summary>
    private static IConsumer<byte[]?, byte[]?> GroupClient(StreamJobOptions options, string groupId)
    {
        var config = KafkaClientConfigs.Consumer(options);
        config.GroupId = groupId;
        return new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
    }

    /// <summary>The checkpoint the job restores, chosen as the protocol above says.</summary>
    public Checkpoint? Restored { get; private set; }

    /// <summary>
    /// Fences the previous run's producers (aborting their open transactions), picks the checkpoint to restore (the
    /// newest whose output committed; an uncommitted newest is deleted) and begins the first two epochs' transactions.
    /// </summary>
    public static ExactlyOnceOutput Open(StreamJobOptions options, ICheckpointStore storage, string markerTopic)
    {
        var output = new ExactlyOnceOutput(options, markerTopic);
        try
        {
            foreach (var producer in output._producers) producer.InitTransactions(Timeout);
            output.Restored = output.ChooseRestored(storage);
            foreach (var producer in output._producers) producer.BeginTransaction();
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    private Checkpoint? ChooseRestored(ICheckpointStore storage)
    {
        var newest = storage.LoadLatest();
        if (newest?.Transaction is not { } transaction) return newest; // none, or written by an at-least-once run
        // The marker is where the checkpoint's run put it (the first source topic can change between runs: a pattern).
        var markerPartition = transaction.MarkerTopic is { } topic ? new TopicPartition(topic, 0) : _markerPartition;
        long committed = _markerGroup!.Committed([markerPartition], Timeout).Single().Offset.Value;
        if (committed == transaction.Marker) return newest;
        // Crashed between writing chk-N and committing its output, which InitTransactions has just aborted.
        storage.Delete(newest.Id);
        return storage.LoadLatest();
    }

    /// <summary>
    /// The first epoch of this run: the id of its first checkpoint (by default the one after the restored one; the job
    /// sets it when its ids come from elsewhere, a savepoint or Keeper's counter, before any sink is built).
    /// </summary>
    public long FirstEpoch
    {
        get => _firstEpoch ?? (Restored?.Id ?? 0) + 1;
        set => _firstEpoch = value;
    }

    private long? _firstEpoch;

    /// <summary>Where a sink writes what comes before checkpoint <paramref name="epoch"/>'s barrier.</summary>
    public IProducer<byte[]?, byte[]?> ProducerFor(long epoch) => _producers[epoch % 2];

    public void PreCommit(Checkpoint checkpoint)
    {
        var producer = ProducerFor(checkpoint.Id);
        // Every sink has passed the barrier, so nothing more is written to this producer until its next transaction.
        if (producer.Flush(Timeout) > 0) throw new KafkaException(new Error(ErrorCode.Local_TimedOut, "the output did not flush before a checkpoint"));
        var sourceOffsets = checkpoint.SourceOffsets.Values.SelectMany(p => p)
            .Select(p => new TopicPartitionOffset(p.Key[..p.Key.LastIndexOf(':')], int.Parse(p.Key[(p.Key.LastIndexOf(':') + 1)..],
                System.Globalization.CultureInfo.InvariantCulture), p.Value))
            .ToList();
        if (sourceOffsets.Count > 0) producer.SendOffsetsToTransaction(sourceOffsets, _jobGroup!.ConsumerGroupMetadata, Timeout);
        long marker = Random.Shared.NextInt64(1, long.MaxValue);
        producer.SendOffsetsToTransaction([new TopicPartitionOffset(_markerPartition, marker)], _markerGroup!.ConsumerGroupMetadata, Timeout);
        checkpoint.Transaction = new OutputTransaction
        {
            TransactionalId = _transactionalIds[checkpoint.Id % 2],
            MarkerGroup = _markerGroupId,
            MarkerTopic = _markerPartition.Topic,
            Marker = marker,
        };
    }

    public void Commit(Checkpoint checkpoint)
    {
        var producer = ProducerFor(checkpoint.Id);
        producer.CommitTransaction(Timeout);
        producer.BeginTransaction(); // epoch Id + 2's
    }

    /// <summary>
    /// At the job's end the open transactions are aborted: after a clean stop they are empty (its final checkpoint
    /// committed everything); after a failure they hold what came after the last checkpoint, which the next run replays.
    /// Aborting now rather than at the transaction timeout keeps read_committed readers from waiting.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var producer in _producers)
        {
            try
            {
                producer.AbortTransaction(TimeSpan.FromSeconds(10));
            }
            catch (KafkaException)
            {
                // Not initialized, no transaction open, or the broker is gone: the next run's InitTransactions aborts it.
            }
            producer.Dispose();
        }
        _jobGroup?.Dispose();
        _markerGroup?.Dispose();
    }
}

/// <summary>Where one exactly-once sink task writes its records, and how its barriers move it to the next epoch.</summary>
internal interface IExactlyOnceWriter : IDisposable
{
    /// <summary>
    /// Hands a record to the current epoch's transaction (waits while the way there is full), for
    /// <paramref name="target"/>'s partition (<see cref="Partition.Any"/>: the Kafka client's choice).
    /// </summary>
    ValueTask ProduceAsync(TopicPartition target, Message<byte[]?, byte[]?> message, Action<DeliveryReport<byte[]?, byte[]?>>? onDelivery);

    /// <summary>
    /// Checkpoint <paramref name="checkpointId"/>'s barrier: completes once every record before it is in its epoch's
    /// producer (what the checkpoint flushes and commits); what follows goes to the next epoch.
    /// </summary>
    ValueTask BarrierAsync(long checkpointId);

    /// <summary>The task's input ended (a clean stop).</summary>
    ValueTask EndAsync();
}

/// <summary>
/// A sink's writer in the process that owns the transactions: each record to the producer of the epoch it is in (the
/// checkpoint after the last barrier), starting at the run's first epoch.
/// </summary>
internal sealed class EpochWriter(ExactlyOnceOutput output, CancellationToken abort) : IExactlyOnceWriter
{
    private long _epoch = output.FirstEpoch;

    public ValueTask ProduceAsync(TopicPartition target, Message<byte[]?, byte[]?> message, Action<DeliveryReport<byte[]?, byte[]?>>? onDelivery)
    {
        output.ProducerFor(_epoch).ProduceWaiting(target, message, onDelivery, abort);
        return ValueTask.CompletedTask;
    }

    public ValueTask BarrierAsync(long checkpointId)
    {
        _epoch = checkpointId + 1;
        return ValueTask.CompletedTask;
    }

    public ValueTask EndAsync() => ValueTask.CompletedTask;

    public void Dispose()
    {
    }
}
