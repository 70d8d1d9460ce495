using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Transactions;

/// <summary>EndTxn: commits or aborts the producer's transaction (markers written into every partition before the answer).</summary>
public sealed class EndTxnHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.EndTxn;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        var coordinator = await services.Transactions!.GetAsync(cancellationToken);
        var error = await coordinator.EndTransactionAsync(body.GetString("TransactionalId") ?? "", body.GetInt64("ProducerId"),
            body.GetInt16("ProducerEpoch"), body.GetBool("Committed"), cancellationToken);
        return context.NewResponse().SetInt("ErrorCode", (short)TransactionErrors.ForVersion(error, context.Version, 2));
    }
}
