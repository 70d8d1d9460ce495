using Microsoft.Extensions.Logging;
using Quill.Broker.Log;
using Quill.Broker.Metadata;
using Quill.Broker.Partitions;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Handlers;

/// <summary>
/// Produce: appends each partition's record batches to its log (validated, offsets assigned by rewriting batch
/// headers, idempotent sequences checked) and answers per partition. acks 1 is answered once the batches are in the
/// leader's log; acks -1 once the high watermark covers them (every in-sync replica has them; NOT_ENOUGH_REPLICAS
/// before appending while the ISR is below min.insync.replicas; see <see cref="Partition.WaitForHighWatermarkAsync"/>); acks 0 gets no response,
/// and an error then closes the connection, as Kafka does. Appends happen before the first await, so the batches of
/// one connection are appended in request order.
/// <para>
/// Per version, as Kafka's ProduceRequest checks them: v3+ carries exactly one magic-2 batch per partition; v0-2 may
/// carry magic 0/1 message sets, which are converted into one magic-2 batch before the log sees them; zstd needs
/// v7+ (UNSUPPORTED_COMPRESSION_TYPE below). From v8 a refusal carries its message, and the records that caused it
/// (e.g. keyless records on a compacted topic) as RecordErrors, so a client fails exactly those.
/// </para>
/// </summary>
public sealed class ProduceHandler(BrokerServices services) : ApiHandler<ProduceRequestData, ProduceResponseData>
{
    private readonly ILogger _log = services.Loggers.CreateLogger("Quill.Broker.Produce");

    public override ApiKey ApiKey => ApiKey.Produce;

    public override ValueTask<ProduceResponseData> HandleAsync(ProduceRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        short acks = request.Acks;
        var response = new ProduceResponseData();
        List<(ProduceResponseData.ResponsesItem.PartitionResponsesItem Result, Task<KafkaError> Replicated)>? waits = null;
        bool anyError = false;
        bool validAcks = acks is 0 or 1 or -1;

        foreach (var topicData in request.TopicData)
        {
            string name = topicData.Name;
            var topicResponse = new ProduceResponseData.ResponsesItem { Name = name };
            response.Responses.Add(topicResponse);
            foreach (var partitionData in topicData.PartitionData)
            {
                int index = partitionData.Index;
                var result = new ProduceResponseData.ResponsesItem.PartitionResponsesItem { Index = index, BaseOffset = -1, LogAppendTimeMs = -1, LogStartOffset = -1 };
                topicResponse.PartitionResponses.Add(result);
                IReadOnlyList<RecordError> recordErrors = [];
                Partition? partition = null;
                long lastOffset = -1;
                // The records stay a slice of the request's frame, which outlives this call.
                var (error, message) = validAcks
                    ? Append(name, index, partitionData.Records, context.Version, acks, result, out recordErrors, out partition, out lastOffset)
                    : (KafkaError.InvalidRequiredAcks, $"acks must be -1, 0 or 1, not {acks}");
                if (error == KafkaError.None && acks == -1 && partition is not null)
                {
                    // acks=all: answered once every in-sync replica has the batch (Kafka's delayed produce).
                    (waits ??= []).Add((result, partition.WaitForHighWatermarkAsync(lastOffset + 1, partition.Log.Config.MinInSyncReplicas,
                        TimeSpan.FromMilliseconds(Math.Max(0, request.TimeoutMs)), services.Time, cancellationToken)));
                }
                if (error == KafkaError.None) continue;
                anyError = true;
                result.ErrorCode = (short)error;
                if (context.Version < 8) continue;
                result.ErrorMessage = message;
                foreach (var recordError in recordErrors)
                    result.RecordErrors.Add(new() { BatchIndex = recordError.BatchIndex, BatchIndexErrorMessage = recordError.Message });
            }
        }
        if (acks == 0)
        {
            context.NoResponse = true;
            context.CloseConnection = anyError;
        }
        return waits is null ? ValueTask.FromResult(response) : WaitForReplicasAsync(response, waits, context.Version);
    }

    private static async ValueTask<ProduceResponseData> WaitForReplicasAsync(ProduceResponseData response,
        List<(ProduceResponseData.ResponsesItem.PartitionResponsesItem Result, Task<KafkaError> Replicated)> waits, short version)
    {
        foreach (var (result, replicated) in waits)
        {
            var error = await replicated.ConfigureAwait(false);
            if (error == KafkaError.None) continue;
            result.ErrorCode = (short)error;
            if (version >= 8) result.ErrorMessage = error switch
            {
                KafkaError.RequestTimedOut => "the in-sync replicas did not all copy the records within the request's timeout",
                KafkaError.NotEnoughReplicasAfterAppend => "the records were written, but the ISR shrank below min.insync.replicas",
                _ => "leadership moved before the in-sync replicas copied the records",
            };
        }
        return response;
    }

    private (KafkaError, string?) Append(string topic, int index, ReadOnlyMemory<byte>? records, short version, short acks,
        ProduceResponseData.ResponsesItem.PartitionResponsesItem result, out IReadOnlyList<RecordError> recordErrors, out Partition? partition,
        out long lastOffset)
    {
        recordErrors = [];
        lastOffset = -1;
        partition = services.Replicas.Get(topic, index);
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
        if (acks == -1 && partition.CheckEnoughReplicas(partition.Log.Config.MinInSyncReplicas) is var enough and not KafkaError.None)
            return (enough, $"the ISR [{string.Join(",", partition.Isr)}] is smaller than min.insync.replicas {partition.Log.Config.MinInSyncReplicas}");
        try
        {
            bytes = CheckForVersion(bytes, version);
            var info = partition.Append(bytes);
            lastOffset = info.LastOffset;
            result.BaseOffset = info.FirstOffset;
            result.LogAppendTimeMs = info.LogAppendTime;
            result.LogStartOffset = info.LogStartOffset;
            if (!info.IsDuplicate) services.Metrics.Produced(topic, bytes.Length, info.RecordCount);
            return (KafkaError.None, null);
        }
        catch (LogException e)
        {
            // Bad batches are worth a line; sequence and epoch refusals are part of normal idempotent retries.
            var level = e.Error is KafkaError.CorruptMessage or KafkaError.MessageTooLarge or KafkaError.InvalidRecord ? LogLevel.Warning : LogLevel.Debug;
            _log.Log(level, "Produce to {Topic}-{Partition} refused: {Error} {Reason}", topic, index, e.Error, e.Message);
            recordErrors = e.RecordErrors;
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

    /// <summary>
    /// What Kafka's ProduceRequest checks by version before the log sees the records, and the up-conversion of magic
    /// 0/1 message sets (v0-2) into one magic-2 batch. Returns the records to append.
    /// </summary>
    private static ReadOnlyMemory<byte> CheckForVersion(ReadOnlyMemory<byte> records, short version)
    {
        int magic = LegacyRecords.MagicOf(records.Span);
        if (magic is 0 or 1)
        {
            if (version >= 3)
                throw new LogException(KafkaError.InvalidRecord, $"Produce v{version} may carry only record batches of magic 2, not magic {magic}");
            try
            {
                return LegacyRecords.ToBatch(records);
            }
            catch (KafkaProtocolException e)
            {
                throw new LogException(KafkaError.CorruptMessage, $"magic {magic} message set does not decode: {e.Message}");
            }
        }
        if (magic != RecordBatch.CurrentMagic || records.Length < RecordBatch.HeaderSize) return records; // the validator says why
        int count = 0;
        for (var rest = records; rest.Length >= RecordBatch.HeaderSize && LegacyRecords.MagicOf(rest.Span) == RecordBatch.CurrentMagic; count++)
        {
            RecordBatch next;
            try
            {
                next = RecordBatch.Read(rest);
            }
            catch (KafkaProtocolException)
            {
                break; // malformed framing: the log's validator refuses it with the reason
            }
            if (version < 7 && next.Compression == CompressionType.Zstd)
                throw new LogException(KafkaError.UnsupportedCompressionType, $"Produce v{version} may not use zstd compression (v7+ may)");
            if (version >= 3 && count > 0)
                throw new LogException(KafkaError.InvalidRecord, $"Produce v{version} must carry exactly one record batch per partition");
            rest = rest[next.SizeInBytes..];
        }
        return records;
    }
}
