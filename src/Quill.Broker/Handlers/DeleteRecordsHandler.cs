using Quill.Broker.Log;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>DeleteRecords: moves each partition's log start offset up (-1 means the high watermark) and reports it.</summary>
public sealed class DeleteRecordsHandler(BrokerServices services) : ApiHandler<DeleteRecordsRequestData, DeleteRecordsResponseData>
{
    public override ApiKey ApiKey => ApiKey.DeleteRecords;

    public override ValueTask<DeleteRecordsResponseData> HandleAsync(DeleteRecordsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new DeleteRecordsResponseData();
        foreach (var topic in request.Topics)
        {
            string name = topic.Name;
            var topicResult = new DeleteRecordsResponseData.TopicsItem { Name = name };
            response.Topics.Add(topicResult);
            foreach (var p in topic.Partitions)
            {
                int index = p.PartitionIndex;
                var result = new DeleteRecordsResponseData.TopicsItem.PartitionsItem { PartitionIndex = index, LowWatermark = -1 };
                topicResult.Partitions.Add(result);
                var partition = services.Replicas.Get(name, index);
                if (partition is null)
                {
                    result.ErrorCode = (short)(services.Metadata.GetPartition(name, index) is null
                        ? KafkaError.UnknownTopicOrPartition : KafkaError.NotLeaderOrFollower);
                    continue;
                }
                long offset = p.Offset;
                if (offset == -1) offset = partition.HighWatermark;
                try
                {
                    result.LowWatermark = offset < 0
                        ? throw new LogException(KafkaError.OffsetOutOfRange, $"offset {offset} is negative")
                        : partition.Log.DeleteRecordsBefore(offset);
                }
                catch (LogException e)
                {
                    result.ErrorCode = (short)e.Error;
                }
                catch (ObjectDisposedException)
                {
                    result.ErrorCode = (short)KafkaError.NotLeaderOrFollower;
                }
            }
        }
        return ValueTask.FromResult(response);
    }
}
