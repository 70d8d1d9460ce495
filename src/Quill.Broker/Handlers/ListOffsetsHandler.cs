using Microsoft.Extensions.Logging;
using Quill.Broker.Log;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// ListOffsets: -2 the log start offset, -1 the log end (the high watermark), -3 the record with the largest
/// timestamp (v7+), -4 the earliest offset kept locally (v8+, KIP-405), -5 the latest offset in tiered storage
/// (v9+, KIP-1005), otherwise the first offset whose timestamp is at least the one asked for, through the time index
/// (offset -1 if there is none). There is no tiered storage here, so -4 is the log start offset and -5 is answered
/// with offset -1, as Kafka answers for a topic that is not tiered. v10's TimeoutMs bounds remote lookups, of which
/// there are none. v0 answers in its old form: a list holding that one offset. IsolationLevel 1 (read_committed,
/// v2+) answers -1 with the last stable offset and finds no timestamp at or past it, as Kafka does.
/// </summary>
public sealed class ListOffsetsHandler(BrokerServices services) : ApiHandler<ListOffsetsRequestData, ListOffsetsResponseData>
{
    private readonly ILogger _log = services.Loggers.CreateLogger("Quill.Broker.ListOffsets");

    internal const long EarliestLocalTimestamp = -4, LatestTieredTimestamp = -5;

    public override ApiKey ApiKey => ApiKey.ListOffsets;

    public override ValueTask<ListOffsetsResponseData> HandleAsync(ListOffsetsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        short version = context.Version;
        var response = new ListOffsetsResponseData();
        bool readCommitted = version >= 2 && request.IsolationLevel == 1;
        foreach (var topic in request.Topics)
        {
            string name = topic.Name;
            var topicResponse = new ListOffsetsResponseData.TopicsItem { Name = name };
            response.Topics.Add(topicResponse);
            foreach (var p in topic.Partitions)
            {
                int index = p.PartitionIndex;
                var result = new ListOffsetsResponseData.TopicsItem.PartitionsItem { PartitionIndex = index };
                topicResponse.Partitions.Add(result);
                var partition = services.Replicas.Get(name, index);
                if (partition is null)
                {
                    var error = services.Metadata.GetPartition(name, index) is null ? KafkaError.UnknownTopicOrPartition : KafkaError.NotLeaderOrFollower;
                    result.ErrorCode = (short)error;
                    continue;
                }
                int currentEpoch = version >= 4 ? p.CurrentLeaderEpoch : -1;
                if (currentEpoch >= 0 && currentEpoch != partition.LeaderEpoch)
                {
                    result.ErrorCode = (short)(currentEpoch < partition.LeaderEpoch ? KafkaError.FencedLeaderEpoch : KafkaError.UnknownLeaderEpoch);
                    continue;
                }
                long timestamp = p.Timestamp;
                int needs = timestamp switch { PartitionLog.MaxTimestampQuery => 7, EarliestLocalTimestamp => 8, LatestTieredTimestamp => 9, _ => 0 };
                if (version < needs)
                {
                    result.ErrorCode = (short)KafkaError.UnsupportedVersion;
                    continue;
                }
                if (timestamp < LatestTieredTimestamp)
                {
                    result.ErrorCode = (short)KafkaError.InvalidRequest;
                    continue;
                }
                TimestampAndOffset? found;
                try
                {
                    found = timestamp switch
                    {
                        LatestTieredTimestamp => new TimestampAndOffset(-1, -1),
                        EarliestLocalTimestamp => partition.Log.FetchOffsetByTimestamp(PartitionLog.EarliestTimestamp),
                        PartitionLog.LatestTimestamp => new TimestampAndOffset(-1, readCommitted ? partition.Log.LastStableOffset : partition.HighWatermark),
                        _ => partition.Log.FetchOffsetByTimestamp(timestamp),
                    };
                    long readable = readCommitted ? partition.Log.LastStableOffset : partition.HighWatermark;
                    if (timestamp is >= 0 or PartitionLog.MaxTimestampQuery && found is { } f && f.Offset >= readable)
                        found = null; // not yet readable (not on every in-sync replica, or in an undecided transaction)
                }
                catch (ObjectDisposedException)
                {
                    result.ErrorCode = (short)KafkaError.NotLeaderOrFollower;
                    continue;
                }
                catch (KafkaProtocolException e)
                {
                    // A stored batch that does not decode (written before produce checked every record): this
                    // partition gets an error, the connection and the other partitions carry on.
                    _log.LogWarning("ListOffsets on {Topic}-{Partition} for timestamp {Timestamp}: a stored batch does not decode: {Reason}", name, index, timestamp, e.Message);
                    result.ErrorCode = (short)KafkaError.CorruptMessage;
                    continue;
                }
                if (version == 0)
                {
                    if (found is { } f0) result.OldStyleOffsets.Add(f0.Offset);
                    continue;
                }
                result.Timestamp = found?.Timestamp ?? -1;
                result.Offset = found?.Offset ?? -1;
                result.LeaderEpoch = found is { Offset: >= 0 } ? partition.LeaderEpoch : -1;
            }
        }
        return ValueTask.FromResult(response);
    }
}
