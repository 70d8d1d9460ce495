using Quill.Broker.Metadata;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// UpdateMetadata (v0-8), sent by the controller to every broker: the partition states go into this broker's metadata
/// cache where they are newer than what it holds (older ones are skipped; <see cref="Controller.ApplyPartitionStatesAsync"/>).
/// The same epoch fences as LeaderAndIsr. The live brokers it lists are not taken from it: each broker keeps following
/// /brokers/ids itself, which already carries every registration.
/// </summary>
public sealed class UpdateMetadataHandler(BrokerServices services) : ApiHandler<UpdateMetadataRequestData, UpdateMetadataResponseData>
{
    public override ApiKey ApiKey => ApiKey.UpdateMetadata;

    public override async ValueTask<UpdateMetadataResponseData> HandleAsync(UpdateMetadataRequestData request, RequestContext context,
        CancellationToken cancellationToken)
    {
        if (ControllerRequestFence.Refuse(services, Log, "UpdateMetadata", request.ControllerId, request.ControllerEpoch, request.BrokerEpoch) is { } error)
            return new UpdateMetadataResponseData { ErrorCode = (short)error };
        var states = new List<Controller.RequestedState>();
        if (context.Version < 5)
        {
            foreach (var p in request.UngroupedPartitionStates)
                states.Add(LeaderAndIsrHandler.State(p.TopicName, Guid.Empty, p.PartitionIndex, p.Leader, p.LeaderEpoch, p.Isr, p.ZkVersion,
                    p.ControllerEpoch, p.Replicas, [], []));
        }
        else
        {
            foreach (var t in request.TopicStates)
            {
                foreach (var p in t.PartitionStates)
                {
                    // UpdateMetadata carries no adding/removing replicas: keep the ones held.
                    var held = services.Metadata.GetPartition(t.TopicName, p.PartitionIndex);
                    states.Add(LeaderAndIsrHandler.State(t.TopicName, t.TopicId, p.PartitionIndex, p.Leader, p.LeaderEpoch, p.Isr, p.ZkVersion,
                        p.ControllerEpoch, p.Replicas, [.. held?.AddingReplicas ?? []], [.. held?.RemovingReplicas ?? []]));
                }
            }
        }
        await services.Controller.ApplyPartitionStatesAsync("UpdateMetadata", request.ControllerId, request.ControllerEpoch, states, strict: false,
            cancellationToken);
        return new UpdateMetadataResponseData { ErrorCode = (short)KafkaError.None };
    }
}
