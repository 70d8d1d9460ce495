using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// FindCoordinator (v0-6): one broker coordinates every group and every transactional id, so the answer is this
/// broker once the coordinator has loaded (COORDINATOR_NOT_AVAILABLE before, which clients retry). v4+ answers a
/// batch of keys. The first transaction key starts the transaction coordinator (creating <c>__transaction_state</c>).
/// </summary>
internal sealed class FindCoordinatorHandler(GroupCoordinator coordinator, IBrokerIdentity broker,
    Func<CancellationToken, Task<bool>>? startTransactionCoordinator) : IApiHandler
{
    private const sbyte GroupKeyType = 0, TransactionKeyType = 1;

    public ApiKey ApiKey => ApiKey.FindCoordinator;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        var response = context.NewResponse();
        sbyte keyType = context.Version >= 1 ? body.GetInt8("KeyType") : GroupKeyType;
        var (error, message) = await CheckAsync(keyType, cancellationToken);
        if (context.Version < 4)
        {
            Fill(response, error, message);
            return response;
        }
        foreach (string? key in body.GetStringArray("CoordinatorKeys") ?? [])
        {
            var coordinatorEntry = response.AddElement("Coordinators").SetString("Key", key ?? "");
            Fill(coordinatorEntry, error, message);
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

    private void Fill(StructValue target, KafkaError error, string? message)
    {
        target.SetInt("ErrorCode", (short)error).SetString("ErrorMessage", message);
        if (error == KafkaError.None) target.SetInt("NodeId", broker.NodeId).SetString("Host", broker.Host).SetInt("Port", broker.Port);
        else target.SetInt("NodeId", -1).SetString("Host", "").SetInt("Port", -1);
    }
}
