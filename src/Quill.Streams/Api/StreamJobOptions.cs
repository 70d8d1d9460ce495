namespace Quill.Streams.Api;

/// <summary>Settings of one job.</summary>
public sealed class StreamJobOptions
{
    /// <summary>The cluster's bootstrap servers (host:port, comma separated).</summary>
    public required string BootstrapServers { get; init; }

    public string JobName { get; init; } = "job";

    /// <summary>
    /// How many parallel tasks each stage runs: the source's partitions are spread over this many source tasks, and a
    /// keyed stage has this many tasks, each owning the keys that hash to it.
    /// </summary>
    public int Parallelism { get; init; } = 1;

    /// <summary>The consumer group whose offsets <c>StartFrom.Committed</c> reads and a clean stop commits (default: the job name).</summary>
    public string? GroupId { get; init; }

    /// <summary>How many elements wait in a keyed task's mailbox before its senders wait (backpressure).</summary>
    public int MailboxCapacity { get; init; } = 1024;

    /// <summary>The clock of processing time (tests pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Extra librdkafka settings for the sources' consumers (applied last).</summary>
    public IReadOnlyDictionary<string, string> ConsumerConfig { get; init; } = new Dictionary<string, string>();

    /// <summary>Extra librdkafka settings for the sinks' producers (applied last).</summary>
    public IReadOnlyDictionary<string, string> ProducerConfig { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Where checkpoints are written (null: no checkpoints). A job started with a directory that holds one restores
    /// from the newest: its sources read on from the checkpointed offsets, its keyed state and timers come back.
    /// </summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>How long after a checkpoint completes the next one starts.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// At-least-once (the default), or exactly-once: the sinks write in Kafka transactions committed with each
    /// checkpoint, so <see cref="CheckpointDirectory"/> is required.
    /// </summary>
    public DeliveryGuarantee DeliveryGuarantee { get; init; } = DeliveryGuarantee.AtLeastOnce;

    /// <summary>
    /// Where keyed state lives while the job runs: <see cref="State.StateBackend.InMemory"/> (the default) or
    /// <see cref="State.StateBackend.OnDisk"/> (an embedded RocksDB, for state larger than memory). Checkpoints have the
    /// same format with either, so a job can restore one written with the other.
    /// </summary>
    public State.StateBackend StateBackend { get; init; } = State.StateBackend.InMemory;

    /// <summary>
    /// How many completed checkpoints are kept (the newest); older ones are deleted (and, with high availability, their
    /// pointers in Keeper). At least 2 under exactly-once: a restart may have to fall back to the one before the newest.
    /// </summary>
    public int RetainedCheckpoints { get; init; } = 2;

    /// <summary>Run as one instance of a highly available job (leader election and checkpoint pointers in Keeper); null: alone.</summary>
    public HighAvailabilityOptions? HighAvailability { get; init; }

    /// <summary>Where savepoints go when a trigger names no directory (null: a trigger must name one).</summary>
    public string? SavepointDirectory { get; init; }

    /// <summary>
    /// A savepoint (its directory or its _metadata file) to start from, when the job has no completed checkpoint of its
    /// own yet (with one, the newest checkpoint wins, as after a failover). State is matched to operators by uid
    /// (<see cref="DataStream{T}.Uid"/>), else by the operator's place in the job's definition.
    /// </summary>
    public string? FromSavepoint { get; init; }

    /// <summary>
    /// Restore even if the savepoint or checkpoint holds state of an operator the job no longer has (Flink's
    /// allowNonRestoredState): that state is dropped. Without it such a restore fails and names the operators.
    /// </summary>
    public bool AllowNonRestoredState { get; init; }

    internal string EffectiveGroupId => GroupId ?? JobName;

    internal bool ExactlyOnce => DeliveryGuarantee == DeliveryGuarantee.ExactlyOnce;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers)) throw new ArgumentException("BootstrapServers is required");
        if (Parallelism < 1) throw new ArgumentOutOfRangeException(nameof(Parallelism), Parallelism, "must be at least 1");
        if (CheckpointInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(CheckpointInterval), CheckpointInterval, "must be positive");
        if (DeliveryGuarantee == DeliveryGuarantee.ExactlyOnce && CheckpointDirectory is null)
            throw new ArgumentException("DeliveryGuarantee.ExactlyOnce needs checkpointing: set CheckpointDirectory (output is committed "
                + "when a checkpoint completes)", nameof(DeliveryGuarantee));
        StateBackend.Validate();
        if (RetainedCheckpoints < (ExactlyOnce ? 2 : 1))
            throw new ArgumentOutOfRangeException(nameof(RetainedCheckpoints), RetainedCheckpoints, ExactlyOnce ? "must be at least 2 under exactly-once" : "must be at least 1");
        if (HighAvailability is { } ha)
        {
            ha.Validate();
            if (CheckpointDirectory is null)
                throw new ArgumentException("HighAvailability needs checkpointing: set CheckpointDirectory (a directory every instance of the job "
                    + "can read: a standby restores from the checkpoints the leader wrote there)", nameof(HighAvailability));
        }
        if (MailboxCapacity < 1) throw new ArgumentOutOfRangeException(nameof(MailboxCapacity), MailboxCapacity, "must be at least 1");
    }
}
