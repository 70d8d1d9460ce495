using Microsoft.Extensions.Logging;
using Quill.Broker.Log;
using Quill.Broker.Metadata;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// Produce: appends each partition's record batches to its log (validated, offsets assigned by rewriting batch
/// headers, idempotent sequences checked) and answers per partition. acks 1 and -1 are answered once the batches are
/// in the log (with one replica the ISR is just this broker, so -1 waits for nothing more); acks 0 gets no response,
/// and an error then closes the connection, as Kafka does. Appends happen before the first await, so the batches of
/// one connection are appended in request order.
/// </summary>
public sealed class ProduceHandler(BrokerServices services) : IApiHandler
{
    private readonly ILogger _log = services.Loggers.CreateLogger("Quill.Broker.Produce");

    public ApiKey ApiKey => ApiKey.Produce;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var request = context.Body;
        short acks = request.GetInt16("Acks");
        var response = context.NewResponse();
        bool anyError = false;
        bool validAcks = acks is 0 or 1 or -1;

        foreach (var topicData in request.GetArray("TopicData") ?? [])
        {
            string name = topicData.GetString("Name") ?? "";
            var topicResponse = response.AddElement("Responses").SetString("Name", name);
            foreach (var partitionData in topicData.GetArray("PartitionData") ?? [])
            {
                int index = partitionData.GetInt32("Index");
                var result = topicResponse.AddElement("PartitionResponses").SetInt("Index", index)
                    .SetInt("BaseOffset", -1).SetInt("LogAppendTimeMs", -1).SetInt("LogStartOffset", -1);
                var (error, message) = validAcks
                    ? Append(name, index, partitionData.GetBytes("Records"), result)
                    : (KafkaError.InvalidRequiredAcks, $"acks must be -1, 0 or 1, not {acks}");
                if (error == KafkaError.None) continue;
                anyError = true;
                result.SetInt("ErrorCode", (short)error);
                if (context.Version >= 8) result.SetString("ErrorMessage", message);
            }
        }
        if (acks == 0)
        {
            context.NoResponse = true;
            context.CloseConnection = anyError;
        }
        return ValueTask.FromResult(response);
    }

    private (KafkaError, string?) Append(string topic, int index, ReadOnlyMemory<byte>? records, StructValue result)
    {
        var partition = services.Replicas.Get(topic, index);
        if (partition is null)
        {
            if (!TopicNames.IsValid(topic)) return (KafkaError.InvalidTopicException, TopicNames.Validate(topic));
            return services.Metadata.GetPartition(topic, index) is null
                ? (KafkaError.UnknownTopicOrPartition, "This server does not host this topic-partition.")
                : (KafkaError.NotLeaderOrFollower, "This server is not the leader for that topic-partition.");
        }
        if (services.Metadata.GetTopic(topic) is { IsInternal: true })
            return (KafkaError.InvalidTopicException, $"Cannot append to internal topic {topic}");
        if (records is not { Length: > 0 } bytes) return (KafkaError.CorruptMessage, "no record batches");
        try
        {
            var info = partition.Append(bytes);
            result.SetInt("BaseOffset", info.FirstOffset)
                .SetInt("LogAppendTimeMs", info.LogAppendTime)
                .SetInt("LogStartOffset", info.LogStartOffset);
            return (KafkaError.None, null);
        }
        catch (LogException e)
        {
            // Bad batches are worth a line; sequence and epoch refusals are part of normal idempotent retries.
            var level = e.Error is KafkaError.CorruptMessage or KafkaError.MessageTooLarge or KafkaError.InvalidRecord ? LogLevel.Warning : LogLevel.Debug;
            _log.Log(level, "Produce to {Topic}-{Partition} refused: {Error} {Reason}", topic, index, e.Error, e.Message);
            return (e.Error, e.Message);
        }
        catch (IOException e)
        {
            _log.LogError(e, "Appending to {Topic}-{Partition} failed", topic, index);
            return (KafkaError.KafkaStorageError, e.Message);
        }
        catch (ObjectDisposedException)
        {
            return (KafkaError.NotLeaderOrFollower, "the partition was closed (deleted or the broker is stopping)");
        }
    }
}
