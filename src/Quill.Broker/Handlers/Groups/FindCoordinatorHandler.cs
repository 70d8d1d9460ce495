using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// FindCoordinator (v0-6): a group's coordinator is the leader of its <c>__consumer_offsets</c> partition, once the
/// coordinator has loaded (COORDINATOR_NOT_AVAILABLE before, or while that partition has no live leader, which
/// clients retry); a transactional id's is the leader of its <c>__transaction_state</c> partition (this broker when
/// <paramref name="transactionCoordinatorOf"/> is not given). v4+ answers a batch of keys. The first transaction
/// key starts the transaction coordinator (creating <c>__transaction_state</c>). The coordinator is named by its
/// endpoint on the listener the request came in on.
/// </summary>
internal sealed class FindCoordinatorHandler(GroupCoordinator coordinator, IBrokerIdentity broker,
    Func<CancellationToken, Task<bool>>? startTransactionCoordinator,
    Func<string, (int NodeId, string Host, int Port)?>? transactionCoordinatorOf = null,
    Func<CancellationToken, Task<bool>>? ensureOffsetsTopic = null) : ApiHandler<FindCoordinatorRequestData, FindCoordinatorResponseData>
{
    private const sbyte GroupKeyType = 0, TransactionKeyType = 1;

    public override ApiKey ApiKey => ApiKey.FindCoordinator;

    public override async ValueTask<FindCoordinatorResponseData> HandleAsync(FindCoordinatorRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new FindCoordinatorResponseData();
        sbyte keyType = context.Version >= 1 ? request.KeyType : GroupKeyType;
        var (error, message) = await CheckAsync(keyType, cancellationToken);
        if (context.Version < 4)
        {
            var (keyError, keyMessage, endpoint) = OnListener(Locate(keyType, request.Key, error, message), context.ListenerName);
            response.ErrorCode = (short)keyError;
            response.ErrorMessage = keyMessage;
            (response.NodeId, response.Host, response.Port) = endpoint;
            return response;
        }
        foreach (string key in request.CoordinatorKeys)
        {
            var (keyError, keyMessage, endpoint) = OnListener(Locate(keyType, key, error, message), context.ListenerName);
            var entry = new FindCoordinatorResponseData.CoordinatorsItem { Key = key, ErrorCode = (short)keyError, ErrorMessage = keyMessage };
            (entry.NodeId, entry.Host, entry.Port) = endpoint;
            response.Coordinators.Add(entry);
        }
        return response;
    }

    /// <summary>The coordinator of one key: for a group, the leader of its offsets partition.</summary>
    private (KafkaError, string?, (int, string, int)) Locate(sbyte keyType, string key, KafkaError error, string? message)
    {
        if (error != KafkaError.None) return (error, message, NoNode);
        if (keyType != GroupKeyType)
        {
            if (transactionCoordinatorOf is null) return (error, message, (broker.NodeId, broker.Host, broker.Port));
            return transactionCoordinatorOf(key) is { } txnLeader
                ? (KafkaError.None, null, txnLeader)
                : (KafkaError.CoordinatorNotAvailable, "the transactional id's partition of __transaction_state has no live leader", NoNode);
        }
        int partition = coordinator.PartitionFor(key);
        return broker.CoordinatorOf(partition) is { } leader
            ? (KafkaError.None, null, leader)
            : (KafkaError.CoordinatorNotAvailable, $"{OffsetsTopic.Name}-{partition} has no live leader", NoNode);
    }

    /// <summary>The coordinator as reached on the request's listener; COORDINATOR_NOT_AVAILABLE if it has no such listener, as Kafka answers.</summary>
    private (KafkaError, string?, (int, string, int)) OnListener((KafkaError Error, string? Message, (int, string, int) Endpoint) found, string listenerName)
    {
        if (found.Error != KafkaError.None) return found;
        return broker.OnListener(found.Endpoint, listenerName) is { } endpoint
            ? (KafkaError.None, null, endpoint)
            : (KafkaError.CoordinatorNotAvailable, $"the coordinator, broker {found.Endpoint.Item1}, has no listener {listenerName}", NoNode);
    }

    private static readonly (int, string, int) NoNode = (-1, "", -1);

    private async Task<(KafkaError, string?)> CheckAsync(sbyte keyType, CancellationToken ct)
    {
        switch (keyType)
        {
            case GroupKeyType:
                if (!coordinator.IsActive) return (KafkaError.CoordinatorNotAvailable, "the group coordinator is not available yet");
                return ensureOffsetsTopic is null || await ensureOffsetsTopic(ct) ? (KafkaError.None, null)
                    : (KafkaError.CoordinatorNotAvailable, $"{OffsetsTopic.Name} cannot be created yet: too few brokers are up");
            case TransactionKeyType when startTransactionCoordinator is not null:
                return await startTransactionCoordinator(ct) ? (KafkaError.None, null)
                    : (KafkaError.CoordinatorNotAvailable, "the transaction coordinator is not available yet");
            default:
                return (KafkaError.InvalidRequest, $"coordinator key type {keyType} is not supported");
        }
    }
}
