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
                        : partition.Log.EndOffsetForEpoch(requested);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or LogException)
                {
                    result.ErrorCode = (short)KafkaError.KafkaStorageError;
                }
            }
        }
        return ValueTask.FromResult(response);
    }
}
