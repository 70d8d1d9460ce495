using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// InitProducerId for idempotent producers: a fresh producer id (from a block reserved in Keeper) at epoch 0, or,
/// when a producer re-initialises with its current id and epoch (KIP-360, v3+), the same id with the next epoch
/// (a new id once the epoch would overflow). With a transactional id, the transaction coordinator answers (the id's
/// producer id with a new epoch, fencing earlier producers of the same transactional id).
/// </summary>
public sealed class InitProducerIdHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.InitProducerId;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var request = context.Body;
        var response = context.NewResponse();
        long producerId = context.Version >= 3 ? request.GetInt64("ProducerId") : -1;
        short epoch = context.Version >= 3 ? request.GetInt16("ProducerEpoch") : (short)-1;
        if (request.GetString("TransactionalId") is { } transactionalId)
        {
            var coordinator = await services.Transactions!.GetAsync(cancellationToken);
            var (error, id, newEpoch) = await coordinator.InitProducerIdAsync(transactionalId, request.GetInt32("TransactionTimeoutMs"),
                producerId, epoch, cancellationToken);
            return response.SetInt("ErrorCode", (short)Transactions.TransactionErrors.ForVersion(error, context.Version, 4))
                .SetInt("ProducerId", id).SetInt("ProducerEpoch", newEpoch);
        }
        if (producerId >= 0 && epoch >= 0 && epoch < short.MaxValue - 1)
        {
            response.SetInt("ProducerId", producerId).SetInt("ProducerEpoch", epoch + 1);
            return response;
        }
        if ((producerId >= 0) != (epoch >= 0))
        {
            response.SetInt("ErrorCode", (short)KafkaError.InvalidRequest);
            return response;
        }
        response.SetInt("ProducerId", await services.ProducerIds.NextAsync(cancellationToken)).SetInt("ProducerEpoch", 0);
        return response;
    }
}
