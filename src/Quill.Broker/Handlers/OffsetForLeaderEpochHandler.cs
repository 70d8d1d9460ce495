using Quill.Kafka.Protocol.Records;
using Microsoft.Win32.SafeHandles;
using Quill.Broker.Log;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// OffsetForLeaderEpoch: where an epoch's log ends, which consumers use to detect a truncated log (KIP-320). As in
/// Kafka: the current epoch ends at the log end; an older epoch ends where the first batch of a later epoch starts,
/// answered with the latest epoch at or below the asked one that has batches (or the asked one if none has); an epoch
/// newer than the leader's, or -1, is unknown (-1, -1). A current leader epoch other than the partition's is
/// FENCED_LEADER_EPOCH (older) or UNKNOWN_LEADER_EPOCH (newer).
/// </summary>
public sealed class OffsetForLeaderEpochHandler(BrokerServices services) : ApiHandler<OffsetForLeaderEpochRequestData, OffsetForLeaderEpochResponseData>
{
    public override ApiKey ApiKey => ApiKey.OffsetForLeaderEpoch;

    public override ValueTask<OffsetForLeaderEpochResponseData> HandleAsync(OffsetForLeaderEpochRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new OffsetForLeaderEpochResponseData();
        foreach (var topic in request.Topics)
        {
            string name = topic.Topic;
            var topicResult = new OffsetForLeaderEpochResponseData.TopicsItem { Topic = name };
            response.Topics.Add(topicResult);
            foreach (var p in topic.Partitions)
            {
                int index = p.Partition;
                var result = new OffsetForLeaderEpochResponseData.TopicsItem.PartitionsItem { Partition = index };
                topicResult.Partitions.Add(result);
                var partition = services.Replicas.Get(name, index);
                if (partition is null)
                {
                    result.ErrorCode = (short)(services.Metadata.GetPartition(name, index) is null
                        ? KafkaError.UnknownTopicOrPartition : KafkaError.NotLeaderOrFollower);
                    continue;
                }
                int current = partition.LeaderEpoch;
                int asserted = context.Version >= 2 ? p.CurrentLeaderEpoch : -1;
                if (asserted >= 0 && asserted != current)
                {
                    result.ErrorCode = (short)(asserted < current ? KafkaError.FencedLeaderEpoch : KafkaError.UnknownLeaderEpoch);
                    continue;
                }
                int requested = p.LeaderEpoch;
                try
                {
                    (result.LeaderEpoch, result.EndOffset) = requested == current ? (requested, partition.Log.LogEndOffset)
                        : requested > current || requested < 0 ? (-1, -1L)
                        : EndOfEarlierEpoch(partition.Log, requested);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or LogException)
                {
                    result.ErrorCode = (short)KafkaError.KafkaStorageError;
                }
            }
        }
        return ValueTask.FromResult(response);
    }

    /// <summary>
    /// The end of an epoch before the current one: the base offset of the first batch stamped with a later epoch (the
    /// log end if there is none), found by binary search since a leader's epochs only grow along its log. A single
    /// broker keeps no leader-epoch checkpoint, so the batches' partitionLeaderEpoch stamps are the history.
    /// </summary>
    private static (int Epoch, long EndOffset) EndOfEarlierEpoch(PartitionLog log, int requested)
    {
        long lo = log.LogStartOffset, hi = log.LogEndOffset; // batches before lo are at most requested; the one at hi is later
        while (lo < hi)
        {
            long mid = lo + (hi - lo) / 2;
            if (BatchAt(log, mid) is not { } batch) { hi = mid; continue; }
            if (batch.PartitionLeaderEpoch > requested) hi = Math.Max(lo, batch.BaseOffset);
            else lo = Math.Min(hi, batch.LastOffset + 1);
        }
        int floor = hi > log.LogStartOffset && BatchAt(log, hi - 1) is { } last && last.PartitionLeaderEpoch <= requested
            ? last.PartitionLeaderEpoch : requested;
        return (floor, hi);
    }

    /// <summary>The header of the batch holding <paramref name="offset"/> (or the first after it), or null past the end.</summary>
    private static BatchHeader? BatchAt(PartitionLog log, long offset)
    {
        var records = log.Read(offset, 1).Records;
        if (records.Length < BatchHeader.Size || records.Handle is not SafeFileHandle handle) return null;
        Span<byte> header = stackalloc byte[BatchHeader.Size];
        if (RandomAccess.Read(handle, header, records.Position) < BatchHeader.Size) return null;
        return BatchHeader.Parse(header);
    }
}
