using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// FindCoordinator (v0-6): one broker coordinates every group and every transactional id, so the answer is this
/// broker once the coordinator has loaded (COORDINATOR_NOT_AVAILABLE before, which clients retry). v4+ answers a
/// batch of keys. The first transaction key starts the transaction coordinator (creating <c>__transaction_state</c>).
/// </summary>
internal sealed class FindCoordinatorHandler(GroupCoordinator coordinator, IBrokerIdentity broker,
    Func<CancellationToken, Task<bool>>? startTransactionCoordinator) : ApiHandler<FindCoordinatorRequestData, FindCoordinatorResponseData>
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
            response.ErrorCode = (short)error;
            response.ErrorMessage = message;
            (response.NodeId, response.Host, response.Port) = Endpoint(error);
            return response;
        }
        foreach (string key in request.CoordinatorKeys)
        {
            var entry = new FindCoordinatorResponseData.CoordinatorsItem { Key = key, ErrorCode = (short)error, ErrorMessage = message };
            (entry.NodeId, entry.Host, entry.Port) = Endpoint(error);
            response.Coordinators.Add(entry);
        }
        return response;
    }

    private async Task<(KafkaError, string?)> CheckAsync(sbyte keyType, CancellationToken ct)
    {
        switch (keyType)
        {
            case GroupKeyType:
                return coordinator.IsActive ? (KafkaError.None, null) : (KafkaError.CoordinatorNotAvailable, "the group coordinator is not available yet");
            case TransactionKeyType when startTransactionCoordinator is not null:
                return await startTransactionCoordinator(ct) ? (KafkaError.None, null)
                    : (KafkaError.CoordinatorNotAvailable, "the transaction coordinator is not available yet");
            default:
                return (KafkaError.InvalidRequest, $"coordinator key type {keyType} is not supported");
        }
    }

    /// <summary>This broker when the key is served, Kafka's "no node" otherwise.</summary>
    private (int NodeId, string Host, int Port) Endpoint(KafkaError error) =>
        error == KafkaError.None ? (broker.NodeId, broker.Host, broker.Port) : (-1, "", -1);
}
