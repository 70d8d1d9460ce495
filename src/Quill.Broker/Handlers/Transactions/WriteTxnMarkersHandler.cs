using Microsoft.Extensions.Logging;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Transactions;

/// <summary>
/// WriteTxnMarkers (v0-1), sent by the transaction coordinator of another broker: writes each COMMIT or ABORT marker
/// into the partitions named, which this broker must lead (NOT_LEADER_OR_FOLLOWER otherwise, UNKNOWN_TOPIC_OR_PARTITION
/// for a partition no topic has), and answers each once it is replicated, as Kafka does with acks=all.
/// </summary>
public sealed class WriteTxnMarkersHandler(BrokerServices services) : ApiHandler<WriteTxnMarkersRequestData, WriteTxnMarkersResponseData>
{
    private readonly Broker.Transactions.TransactionMarkerWriter _markers = new(services.Replicas,
        services.Groups ?? throw new InvalidOperationException("the group coordinator has not started"), metadata: null, services.BrokerId,
        services.Time, services.Loggers.CreateLogger("Quill.Broker.Transactions"));

    public override ApiKey ApiKey => ApiKey.WriteTxnMarkers;

    public override async ValueTask<WriteTxnMarkersResponseData> HandleAsync(WriteTxnMarkersRequestData request, RequestContext context,
        CancellationToken cancellationToken)
    {
        var response = new WriteTxnMarkersResponseData();
        foreach (var marker in request.Markers)
        {
            var result = new WriteTxnMarkersResponseData.MarkersItem { ProducerId = marker.ProducerId };
            response.Markers.Add(result);
            foreach (var topic in marker.Topics)
            {
                var topicResult = new WriteTxnMarkersResponseData.MarkersItem.TopicsItem { Name = topic.Name };
                result.Topics.Add(topicResult);
                foreach (int index in topic.PartitionIndexes)
                {
                    KafkaError error;
                    if (services.Metadata.GetPartition(topic.Name, index) is null) error = KafkaError.UnknownTopicOrPartition;
                    else error = await _markers.WriteLocalAsync(topic.Name, index, marker.ProducerId, marker.ProducerEpoch,
                        marker.TransactionResult, marker.CoordinatorEpoch, cancellationToken);
                    if (error != KafkaError.None)
                        Log.LogInformation("WriteTxnMarkers for producer {ProducerId} into {Topic}-{Partition}: {Error}", marker.ProducerId,
                            LogSafe.Text(topic.Name), index, error);
                    topicResult.Partitions.Add(new WriteTxnMarkersResponseData.MarkersItem.TopicsItem.PartitionsItem
                    {
                        PartitionIndex = index, ErrorCode = (short)error,
                    });
                }
            }
        }
        return response;
    }
}
