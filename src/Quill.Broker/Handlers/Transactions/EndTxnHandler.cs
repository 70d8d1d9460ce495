using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Transactions;

/// <summary>EndTxn: commits or aborts the producer's transaction (markers written into every partition before the answer).</summary>
public sealed class EndTxnHandler(BrokerServices services) : ApiHandler<EndTxnRequestData, EndTxnResponseData>
{
    public override ApiKey ApiKey => ApiKey.EndTxn;

    public override async ValueTask<EndTxnResponseData> HandleAsync(EndTxnRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var coordinator = await services.Transactions!.GetAsync(cancellationToken);
        var error = await coordinator.EndTransactionAsync(request.TransactionalId, request.ProducerId,
            request.ProducerEpoch, request.Committed, cancellationToken);
        return new EndTxnResponseData { ErrorCode = (short)TransactionErrors.ForVersion(error, context.Version, 2) };
    }
}
