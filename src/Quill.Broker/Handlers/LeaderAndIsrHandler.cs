using Microsoft.Extensions.Logging;
using Quill.Broker.Metadata;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// LeaderAndIsr (v0-7), sent by the controller to a partition's replicas: each becomes leader or follower with the
/// request's leader epoch, ISR and replicas (<see cref="Controller.ApplyPartitionStatesAsync"/>). As Kafka's broker:
/// a broker epoch older than this broker's registration is STALE_BROKER_EPOCH and a controller epoch older than the
/// newest seen STALE_CONTROLLER_EPOCH, for the whole request; a partition whose leader epoch is older than the one
/// held is STALE_CONTROLLER_EPOCH for that partition and left as it is. Every refusal is logged with its reason.
/// </summary>
public sealed class LeaderAndIsrHandler(BrokerServices services) : ApiHandler<LeaderAndIsrRequestData, LeaderAndIsrResponseData>
{
    public override ApiKey ApiKey => ApiKey.LeaderAndIsr;

    public override async ValueTask<LeaderAndIsrResponseData> HandleAsync(LeaderAndIsrRequestData request, RequestContext context,
        CancellationToken cancellationToken)
    {
        short version = context.Version;
        if (ControllerRequestFence.Refuse(services, Log, "LeaderAndIsr", request.ControllerId, request.ControllerEpoch, request.BrokerEpoch) is { } error)
            return (LeaderAndIsrResponseData)request.ErrorResponse(version, error)!;
        var states = new List<Controller.RequestedState>();
        var ids = new Dictionary<string, Guid>();
        if (version < 2)
        {
            foreach (var p in request.UngroupedPartitionStates)
                states.Add(State(p.TopicName, Guid.Empty, p.PartitionIndex, p.Leader, p.LeaderEpoch, p.Isr, p.PartitionEpoch, p.ControllerEpoch,
                    p.Replicas, p.AddingReplicas, p.RemovingReplicas));
        }
        else
        {
            foreach (var t in request.TopicStates)
            {
                ids[t.TopicName] = t.TopicId;
                foreach (var p in t.PartitionStates)
                    states.Add(State(t.TopicName, t.TopicId, p.PartitionIndex, p.Leader, p.LeaderEpoch, p.Isr, p.PartitionEpoch, p.ControllerEpoch,
                        p.Replicas, p.AddingReplicas, p.RemovingReplicas));
            }
        }
        var results = await services.Controller.ApplyPartitionStatesAsync("LeaderAndIsr", request.ControllerId, request.ControllerEpoch, states,
            strict: true, cancellationToken);
        var response = new LeaderAndIsrResponseData();
        if (version < 5)
        {
            foreach (var (topic, partition, e) in results)
                response.PartitionErrors.Add(new LeaderAndIsrResponseData.PartitionErrorsItem { TopicName = topic, PartitionIndex = partition, ErrorCode = (short)e });
            return response;
        }
        foreach (var group in results.GroupBy(r => r.Topic))
        {
            var topic = new LeaderAndIsrResponseData.TopicsItem { TopicId = ids.GetValueOrDefault(group.Key) };
            foreach (var (_, partition, e) in group)
                topic.PartitionErrors.Add(new LeaderAndIsrResponseData.TopicsItem.PartitionErrorsItem { PartitionIndex = partition, ErrorCode = (short)e });
            response.Topics.Add(topic);
        }
        return response;
    }

    internal static Controller.RequestedState State(string topic, Guid topicId, int partition, int leader, int leaderEpoch, List<int> isr,
        int partitionEpoch, int controllerEpoch, List<int> replicas, List<int> adding, List<int> removing) =>
        new(topic, topicId, partition, new PartitionState(leader, leaderEpoch, [.. isr], controllerEpoch) { ZkVersion = partitionEpoch },
            [.. replicas], [.. adding], [.. removing]);
}

/// <summary>The epoch checks every controller request passes first (<see cref="ControllerRequestCheck"/>), logged when they refuse.</summary>
internal static class ControllerRequestFence
{
    public static KafkaError? Refuse(BrokerServices services, ILogger log, string api, int controllerId, int controllerEpoch, long brokerEpoch)
    {
        long own = services.Metadata.Brokers.FirstOrDefault(b => b.Id == services.Options.BrokerId)?.Epoch ?? -1;
        var error = services.Controller.RequestCheck.Check(controllerEpoch, brokerEpoch, own, out string? why);
        if (error == KafkaError.None) return null;
        log.LogWarning("{Api} from broker {From} (controller epoch {Epoch}) refused with {Error}: {Why}", api, controllerId, controllerEpoch, error, why);
        return error;
    }
}
