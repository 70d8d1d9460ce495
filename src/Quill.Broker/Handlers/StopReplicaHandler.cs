using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// StopReplica (v0-4), sent by the controller when a replica leaves this broker (topic deletion, a reassignment that
/// removed it): stop serving and fetching the partition and, when asked, delete its log
/// (<see cref="Metadata.Controller.StopReplicasAsync"/>). The same epoch fences as LeaderAndIsr; per partition, a
/// leader epoch older than the one held is FENCED_LEADER_EPOCH (v3+, KIP-570).
/// </summary>
public sealed class StopReplicaHandler(BrokerServices services) : ApiHandler<StopReplicaRequestData, StopReplicaResponseData>
{
    public override ApiKey ApiKey => ApiKey.StopReplica;

    public override async ValueTask<StopReplicaResponseData> HandleAsync(StopReplicaRequestData request, RequestContext context,
        CancellationToken cancellationToken)
    {
        if (Handlers.ControllerRequestFence.Refuse(services, Log, "StopReplica", request.ControllerId, request.ControllerEpoch, request.BrokerEpoch) is { } error)
            return (StopReplicaResponseData)request.ErrorResponse(context.Version, error)!;
        var results = await services.Controller.StopReplicasAsync(request.ControllerId, request.ControllerEpoch, request.Partitions(context.Version).ToList());
        var response = new StopReplicaResponseData();
        foreach (var (topic, partition, e) in results)
            response.PartitionErrors.Add(new StopReplicaResponseData.PartitionErrorsItem { TopicName = topic, PartitionIndex = partition, ErrorCode = (short)e });
        return response;
    }
}
