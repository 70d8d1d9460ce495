using Quill.Kafka.Protocol;

namespace Quill.Broker.Handlers.Transactions;

internal static class TransactionErrors
{
    /// <summary>
    /// PRODUCER_FENCED exists from the versions that name it (KIP-588); older clients get INVALID_PRODUCER_EPOCH, as Kafka
    /// answers them.
    /// </summary>
    public static KafkaError ForVersion(KafkaError error, short version, short firstVersionWithProducerFenced) =>
        error == KafkaError.ProducerFenced && version < firstVersionWithProducerFenced ? KafkaError.InvalidProducerEpoch : error;
}
