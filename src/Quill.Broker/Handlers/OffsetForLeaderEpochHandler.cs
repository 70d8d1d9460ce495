using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// OffsetForLeaderEpoch: where an epoch's log ends, which consumers use to detect a truncated log. For the current
/// epoch that is the log end. A single broker never truncates, and keeps no history of past epochs, so an older epoch
/// is also answered with the log end (no truncation to report); an epoch newer than the leader's is unknown (-1, -1).
/// </summary>
public sealed class OffsetForLeaderEpochHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.OffsetForLeaderEpoch;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var response = context.NewResponse();
        foreach (var topic in context.Body.GetArray("Topics") ?? [])
        {
            string name = topic.GetString("Topic") ?? "";
            var topicResult = response.AddElement("Topics").SetString("Topic", name);
            foreach (var p in topic.GetArray("Partitions") ?? [])
            {
                int index = p.GetInt32("Partition");
                var result = topicResult.AddElement("Partitions").SetInt("Partition", index);
                var partition = services.Replicas.Get(name, index);
                if (partition is null)
                {
                    result.SetInt("ErrorCode", (short)(services.Metadata.GetPartition(name, index) is null
                        ? KafkaError.UnknownTopicOrPartition : KafkaError.NotLeaderOrFollower));
                    continue;
                }
                int current = partition.LeaderEpoch;
                int asserted = context.Version >= 2 ? p.GetInt32("CurrentLeaderEpoch") : -1;
                if (asserted >= 0 && asserted != current)
                {
                    result.SetInt("ErrorCode", (short)(asserted < current ? KafkaError.FencedLeaderEpoch : KafkaError.UnknownLeaderEpoch));
                    continue;
                }
                int requested = p.GetInt32("LeaderEpoch");
                if (requested > current || requested < 0)
                    result.SetInt("LeaderEpoch", -1).SetInt("EndOffset", -1);
                else
                    result.SetInt("LeaderEpoch", requested).SetInt("EndOffset", partition.Log.LogEndOffset);
            }
        }
        return ValueTask.FromResult(response);
    }
}
