using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// InitProducerId for idempotent producers: a fresh producer id (from a block reserved in Keeper) at epoch 0, or,
/// when a producer re-initialises with its current id and epoch (KIP-360, v3+), the same id with the next epoch
/// (a new id once the epoch would overflow). With a transactional id, the transaction coordinator answers (the id's
/// producer id with a new epoch, fencing earlier producers of the same transactional id).
/// </summary>
public sealed class InitProducerIdHandler(BrokerServices services) : ApiHandler<InitProducerIdRequestData, InitProducerIdResponseData>
{
    public override ApiKey ApiKey => ApiKey.InitProducerId;

    public override async ValueTask<InitProducerIdResponseData> HandleAsync(InitProducerIdRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new InitProducerIdResponseData();
        long producerId = context.Version >= 3 ? request.ProducerId : -1;
        short epoch = context.Version >= 3 ? request.ProducerEpoch : (short)-1;
        if (request.TransactionalId is { } transactionalId)
        {
            var coordinator = await services.Transactions!.GetAsync(cancellationToken);
            var (error, id, newEpoch) = await coordinator.InitProducerIdAsync(transactionalId, request.TransactionTimeoutMs,
                producerId, epoch, cancellationToken);
            response.ErrorCode = (short)Transactions.TransactionErrors.ForVersion(error, context.Version, 4);
            response.ProducerId = id;
            response.ProducerEpoch = newEpoch;
            return response;
        }
        if (producerId >= 0 && epoch >= 0 && epoch < short.MaxValue - 1)
        {
            response.ProducerId = producerId;
            response.ProducerEpoch = (short)(epoch + 1);
            return response;
        }
        if ((producerId >= 0) != (epoch >= 0))
        {
            response.ErrorCode = (short)KafkaError.InvalidRequest;
            return response;
        }
        response.ProducerId = await services.ProducerIds.NextAsync(cancellationToken);
        response.ProducerEpoch = 0;
        return response;
    }
}
