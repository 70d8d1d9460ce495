using Microsoft.Extensions.Logging;
using Quill.Broker.Metadata;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// ElectLeaders (v0-2; v0 is always a preferred election): the controller's elections (see
/// <see cref="Controller.ElectLeadersAsync"/>); a broker that is not the controller answers NOT_CONTROLLER for each
/// partition, and clients send the request to the controller. A request for every partition (null topics) asks about
/// every partition in the metadata and lists, as Kafka does, only those where an election happened or failed.
/// </summary>
public sealed class ElectLeadersHandler(BrokerServices services) : ApiHandler<ElectLeadersRequestData, ElectLeadersResponseData>
{
    public override ApiKey ApiKey => ApiKey.ElectLeaders;

    public override async ValueTask<ElectLeadersResponseData> HandleAsync(ElectLeadersRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new ElectLeadersResponseData();
        if (request.ElectionType is not ((sbyte)ElectionType.Preferred or (sbyte)ElectionType.Unclean))
        {
            Log.LogWarning("ElectLeaders with unknown election type {Type}", request.ElectionType);
            response.ErrorCode = (short)KafkaError.InvalidRequest;
            return response;
        }

        var requested = request.TopicPartitions;
        var partitions = (requested is null
            ? services.Metadata.Topics.SelectMany(t => t.Partitions.Select(p => (t.Name, p.Index)))
            : requested.SelectMany(t => t.Partitions.Select(p => (t.Topic, p)))).Distinct().ToList();
        var results = await services.Controller.ElectLeadersAsync((ElectionType)request.ElectionType, partitions, cancellationToken);

        var byTopic = new Dictionary<string, ElectLeadersResponseData.ReplicaElectionResultsItem>(StringComparer.Ordinal);
        foreach (var (topic, index, result) in results)
        {
            if (requested is null && result.Error == KafkaError.ElectionNotNeeded) continue;
            if (!byTopic.TryGetValue(topic, out var topicResult))
            {
                byTopic[topic] = topicResult = new ElectLeadersResponseData.ReplicaElectionResultsItem { Topic = topic };
                response.ReplicaElectionResults.Add(topicResult);
            }
            topicResult.PartitionResult.Add(new ElectLeadersResponseData.ReplicaElectionResultsItem.PartitionResultItem
            {
                PartitionId = index, ErrorCode = (short)result.Error, ErrorMessage = result.IsOk ? null : result.Message,
            });
        }
        return response;
    }
}
