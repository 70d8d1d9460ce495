using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// FindCoordinator (v0-6): one broker coordinates every group, so the answer is this broker once the coordinator
/// has loaded (COORDINATOR_NOT_AVAILABLE before, which clients retry). v4+ answers a batch of keys. There is no
/// transaction coordinator: transaction keys get INVALID_REQUEST, so a transactional producer fails fast.
/// </summary>
internal sealed class FindCoordinatorHandler(GroupCoordinator coordinator, IBrokerIdentity broker) : IApiHandler
{
    private const sbyte GroupKeyType = 0;

    public ApiKey ApiKey => ApiKey.FindCoordinator;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        var response = context.NewResponse();
        sbyte keyType = context.Version >= 1 ? body.GetInt8("KeyType") : GroupKeyType;
        if (context.Version < 4)
        {
            var (error, message) = Check(keyType);
            Fill(response, error, message);
            return ValueTask.FromResult(response);
        }
        foreach (string? key in body.GetStringArray("CoordinatorKeys") ?? [])
        {
            var (error, message) = Check(keyType);
            var coordinatorEntry = response.AddElement("Coordinators").SetString("Key", key ?? "");
            Fill(coordinatorEntry, error, message);
        }
        return ValueTask.FromResult(response);
    }

    private (KafkaError, string?) Check(sbyte keyType)
    {
        if (keyType != GroupKeyType) return (KafkaError.InvalidRequest, $"coordinator key type {keyType} is not supported: Quill coordinates groups only");
        if (!coordinator.IsActive) return (KafkaError.CoordinatorNotAvailable, "the group coordinator is not available yet");
        return (KafkaError.None, null);
    }

    private void Fill(StructValue target, KafkaError error, string? message)
    {
        target.SetInt("ErrorCode", (short)error).SetString("ErrorMessage", message);
        if (error == KafkaError.None) target.SetInt("NodeId", broker.NodeId).SetString("Host", broker.Host).SetInt("Port", broker.Port);
        else target.SetInt("NodeId", -1).SetString("Host", "").SetInt("Port", -1);
    }
}
