using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// ElectLeaders (v0-2). Every partition here is led by its first replica, the preferred one, and that leader is alive:
/// neither a preferred (type 0) nor an unclean (type 1) election is needed, so each partition asked for answers
/// ELECTION_NOT_NEEDED, and one the cluster does not have UNKNOWN_TOPIC_OR_PARTITION. A request for every partition
/// (null topics) lists, as Kafka does, only partitions where an election happened or failed: none.
/// </summary>
public sealed class ElectLeadersHandler(BrokerServices services) : ApiHandler<ElectLeadersRequestData, ElectLeadersResponseData>
{
    private const sbyte Preferred = 0, Unclean = 1;

    public override ApiKey ApiKey => ApiKey.ElectLeaders;

    public override ValueTask<ElectLeadersResponseData> HandleAsync(ElectLeadersRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new ElectLeadersResponseData();
        sbyte electionType = request.ElectionType;
        if (electionType is not (Preferred or Unclean))
        {
            response.ErrorCode = (short)KafkaError.InvalidRequest;
            return ValueTask.FromResult(response);
        }

        var requested = request.TopicPartitions;
        var partitions = requested is null
            ? services.Metadata.Topics.SelectMany(t => t.Partitions.Select(p => (t.Name, p.Index)))
            : requested.SelectMany(t => t.Partitions.Select(p => (Name: t.Topic, p)));

        var byTopic = new Dictionary<string, ElectLeadersResponseData.ReplicaElectionResultsItem>(StringComparer.Ordinal);
        foreach (var (topic, index) in partitions.Distinct())
        {
            var (error, message) = Elect(topic, index, electionType);
            if (requested is null && error == KafkaError.ElectionNotNeeded) continue;
            if (!byTopic.TryGetValue(topic, out var topicResult))
            {
                byTopic[topic] = topicResult = new ElectLeadersResponseData.ReplicaElectionResultsItem { Topic = topic };
                response.ReplicaElectionResults.Add(topicResult);
            }
            topicResult.PartitionResult.Add(new ElectLeadersResponseData.ReplicaElectionResultsItem.PartitionResultItem
            {
                PartitionId = index, ErrorCode = (short)error, ErrorMessage = message,
            });
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
