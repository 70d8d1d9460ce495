using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// ElectLeaders (v0-2). Every partition here is led by its first replica, the preferred one, and that leader is alive:
/// neither a preferred (type 0) nor an unclean (type 1) election is needed, so each partition asked for answers
/// ELECTION_NOT_NEEDED, and one the cluster does not have UNKNOWN_TOPIC_OR_PARTITION. A request for every partition
/// (null topics) lists, as Kafka does, only partitions where an election happened or failed: none.
/// </summary>
public sealed class ElectLeadersHandler(BrokerServices services) : IApiHandler
{
    private const sbyte Preferred = 0, Unclean = 1;

    public ApiKey ApiKey => ApiKey.ElectLeaders;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var response = context.NewResponse();
        sbyte electionType = context.Body.GetInt8("ElectionType");
        if (electionType is not (Preferred or Unclean))
            return ValueTask.FromResult(response.SetInt("ErrorCode", (short)KafkaError.InvalidRequest));

        var requested = context.Body.GetArray("TopicPartitions");
        var partitions = requested is null
            ? services.Metadata.Topics.SelectMany(t => t.Partitions.Select(p => (t.Name, p.Index)))
            : requested.SelectMany(t => (t.GetInt32Array("Partitions") ?? []).Select(p => (Name: t.GetString("Topic") ?? "", p)));

        var byTopic = new Dictionary<string, StructValue>(StringComparer.Ordinal);
        foreach (var (topic, index) in partitions.Distinct())
        {
            var (error, message) = Elect(topic, index, electionType);
            if (requested is null && error == KafkaError.ElectionNotNeeded) continue;
            if (!byTopic.TryGetValue(topic, out var topicResult))
                byTopic[topic] = topicResult = response.AddElement("ReplicaElectionResults").SetString("Topic", topic);
            topicResult.AddElement("PartitionResult")
                .SetInt("PartitionId", index)
                .SetInt("ErrorCode", (short)error)
                .SetString("ErrorMessage", message);
        }
        return ValueTask.FromResult(response);
    }

    private (KafkaError, string?) Elect(string topic, int index, sbyte electionType)
    {
        if (services.Metadata.GetPartition(topic, index) is not { } partition)
            return (KafkaError.UnknownTopicOrPartition, "The partition does not exist.");
        int leader = partition.State.Leader;
        bool leaderAlive = leader >= 0 && services.LiveBrokers.Any(b => b.Id == leader);
        bool needed = electionType == Preferred ? partition.Replicas.Length > 0 && leader != partition.Replicas[0] : !leaderAlive;
        if (!needed) return (KafkaError.ElectionNotNeeded, "Leader election not needed for topic partition.");
        // Leadership only moves with replication, which this broker does not have yet.
        return electionType == Preferred
            ? (KafkaError.PreferredLeaderNotAvailable, $"The preferred leader of {topic}-{index} cannot take over: replicas are not replicated.")
            : (KafkaError.EligibleLeadersNotAvailable, $"No live replica of {topic}-{index} can lead.");
    }
}
