using Microsoft.Extensions.Logging;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// ControlledShutdown (v0-3), sent by a stopping broker to the controller: the controller moves that broker's
/// leaderships away and takes it out of the ISRs (<see cref="Metadata.Controller.ControlledShutdownAsync"/>), and
/// answers the partitions it still leads. A broker that is not the controller answers NOT_CONTROLLER; a broker epoch
/// (v2+, the creation zxid of its registration) older than the registration now is STALE_BROKER_EPOCH.
/// </summary>
public sealed class ControlledShutdownHandler(BrokerServices services) : ApiHandler<ControlledShutdownRequestData, ControlledShutdownResponseData>
{
    public override ApiKey ApiKey => ApiKey.ControlledShutdown;

    public override async ValueTask<ControlledShutdownResponseData> HandleAsync(ControlledShutdownRequestData request, RequestContext context,
        CancellationToken cancellationToken)
    {
        var (error, remaining) = await services.Controller.ControlledShutdownAsync(request.BrokerId, request.BrokerEpoch, cancellationToken);
        if (error != KafkaError.None)
            Log.LogInformation("ControlledShutdown of broker {Id} answered {Error}", request.BrokerId, error);
        var response = new ControlledShutdownResponseData { ErrorCode = (short)error };
        foreach (var (topic, partition) in remaining)
            response.RemainingPartitions.Add(new ControlledShutdownResponseData.RemainingPartitionsItem { TopicName = topic, PartitionIndex = partition });
        return response;
    }
}
