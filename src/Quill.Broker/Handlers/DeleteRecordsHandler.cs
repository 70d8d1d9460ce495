using Quill.Broker.Log;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>DeleteRecords: moves each partition's log start offset up (-1 means the high watermark) and reports it.</summary>
public sealed class DeleteRecordsHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.DeleteRecords;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var response = context.NewResponse();
        foreach (var topic in context.Body.GetArray("Topics") ?? [])
        {
            string name = topic.GetString("Name") ?? "";
            var topicResult = response.AddElement("Topics").SetString("Name", name);
            foreach (var p in topic.GetArray("Partitions") ?? [])
            {
                int index = p.GetInt32("PartitionIndex");
                var result = topicResult.AddElement("Partitions").SetInt("PartitionIndex", index).SetInt("LowWatermark", -1);
                var partition = services.Replicas.Get(name, index);
                if (partition is null)
                {
                    result.SetInt("ErrorCode", (short)(services.Metadata.GetPartition(name, index) is null
                        ? KafkaError.UnknownTopicOrPartition : KafkaError.NotLeaderOrFollower));
                    continue;
                }
                long offset = p.GetInt64("Offset");
                if (offset == -1) offset = partition.HighWatermark;
                try
                {
                    result.SetInt("LowWatermark", offset < 0
                        ? throw new LogException(KafkaError.OffsetOutOfRange, $"offset {offset} is negative")
                        : partition.Log.DeleteRecordsBefore(offset));
                }
                catch (LogException e)
                {
                    result.SetInt("ErrorCode", (short)e.Error);
                }
                catch (ObjectDisposedException)
                {
                    result.SetInt("ErrorCode", (short)KafkaError.NotLeaderOrFollower);
                }
            }
        }
        return ValueTask.FromResult(response);
    }
}
