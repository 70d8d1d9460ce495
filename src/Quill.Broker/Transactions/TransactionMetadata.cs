namespace Quill.Broker.Transactions;

/// <summary>A transaction's state, with Kafka's codes (they are stored in <c>__transaction_state</c>).</summary>
public enum TransactionState : sbyte
{
    Empty = 0,
    Ongoing = 1,
    PrepareCommit = 2,
    PrepareAbort = 3,
    CompleteCommit = 4,
    CompleteAbort = 5,
    Dead = 6,
    PrepareEpochFence = 7,
}

/// <summary>
/// What the coordinator knows of one transactional id (Kafka's TransactionMetadata): the producer id and epoch it
/// hands out, the timeout, the state of the current transaction and the partitions in it. Changed only on its
/// shard's event loop.
/// </summary>
public sealed class TransactionMetadata(string transactionalId)
{
    public string TransactionalId { get; } = transactionalId;
    public long ProducerId { get; set; } = -1;
    public short ProducerEpoch { get; set; } = -1;
    /// <summary>
    /// The epoch before the coordinator fenced the producer to abort its transaction (a timeout), so that producer may
    /// still re-initialise with its own id and epoch (KIP-360) instead of being fenced for good. -1 when none.
    /// </summary>
    public short FencedEpoch { get; set; } = -1;
    public int TimeoutMs { get; set; }
    public TransactionState State { get; set; } = TransactionState.Empty;
    public HashSet<(string Topic, int Partition)> Partitions { get; } = [];
    public long StartTimestampMs { get; set; } = -1;
    public long LastUpdateTimestampMs { get; set; } = -1;

    public bool IsCompleting => State is TransactionState.PrepareCommit or TransactionState.PrepareAbort;

    public override string ToString() =>
        $"{TransactionalId} (producer {ProducerId} epoch {ProducerEpoch}, {State}, {Partitions.Count} partitions)";
}
