using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// InitProducerId for idempotent producers: a fresh producer id (from a block reserved in Keeper) at epoch 0, or,
/// when a producer re-initialises with its current id and epoch (KIP-360, v3+), the same id with the next epoch
/// (a new id once the epoch would overflow). Transactions are not supported: a transactional id is refused.
/// </summary>
public sealed class InitProducerIdHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.InitProducerId;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var request = context.Body;
        var response = context.NewResponse();
        if (request.GetString("TransactionalId") is not null)
        {
            response.SetInt("ErrorCode", (short)KafkaError.TransactionalIdAuthorizationFailed);
            return response;
        }
        long producerId = context.Version >= 3 ? request.GetInt64("ProducerId") : -1;
        short epoch = context.Version >= 3 ? request.GetInt16("ProducerEpoch") : (short)-1;
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
