using Quill.Broker.Groups;
using Quill.Broker.Log;

namespace Quill.Broker.Transactions;

/// <summary>Facts about the internal topic <c>__transaction_state</c>, where the transaction coordinator keeps its state.</summary>
public static class TransactionStateTopic
{
    public const string Name = "__transaction_state";
    /// <summary>transaction.state.log.num.partitions' default.</summary>
    public const int DefaultPartitionCount = 50;
    /// <summary>transaction.state.log.segment.bytes' default.</summary>
    public const int DefaultSegmentBytes = 100 * 1024 * 1024;

    /// <summary>The partition that holds a transactional id: Kafka's placement (the same hash as groups use).</summary>
    public static int PartitionFor(string transactionalId, int partitionCount) => OffsetsTopic.PartitionFor(transactionalId, partitionCount);

    /// <summary>Compacted: the latest state per transactional id survives.</summary>
    public static LogConfig LogConfig(LogConfig brokerDefaults) =>
        brokerDefaults with { CleanupPolicy = CleanupPolicy.Compact, SegmentBytes = DefaultSegmentBytes };
}
