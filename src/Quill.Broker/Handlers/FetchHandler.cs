using Quill.Broker.Log;
using Quill.Broker.Partitions;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Handlers;

/// <summary>
/// Fetch: whole record batches straight from the logs (file regions the connection reads into its send buffers while
/// writing the response, never parsed or copied in between), at most PartitionMaxBytes per partition and MaxBytes per response, except that the first partition with
/// data always gets at least one whole batch so a consumer can make progress (KIP-74). If fewer than MinBytes are
/// available the request waits (a long poll) until enough is appended or MaxWaitMs passes. Consumers read below the high
/// watermark; a follower (replica_id >= 0) reads to the log end, and its fetch offset tells the leader how far its copy
/// goes (<see cref="Partition.RecordFollowerFetch"/>). Topics by name, or by
/// topic id from v13. IsolationLevel 1 (read_committed, v4+) reads only below the last stable offset and lists the
/// aborted transactions of the range returned, so the consumer can drop their records; every response reports the
/// last stable offset. Fetch sessions (KIP-227) are not kept: every response is a full one with session id 0, which
/// tells a client to keep sending full requests.
/// <para>
/// Fetch below v4 predates record batches: v0-1 read magic 0 message sets, v2-3 magic 1. For them each partition's
/// batches are converted down (uncompressed messages from the fetch offset on, control batches and headers left out),
/// as Kafka does while the topic's message.downconversion.enable is true; otherwise the partition is answered
/// UNSUPPORTED_VERSION. A batch that does not decode is answered CORRUPT_MESSAGE for its partition. A topic with
/// compression.type=zstd answers Fetch below v10 UNSUPPORTED_COMPRESSION_TYPE, as Kafka does.
/// </para>
/// </summary>
public sealed class FetchHandler(BrokerServices services) : ApiHandler<FetchRequestData, FetchResponseData>
{
    public override ApiKey ApiKey => ApiKey.Fetch;

    /// <summary>One requested partition: where to read and where the answer goes.</summary>
    private sealed class Slot(FetchResponseData.ResponsesItem.PartitionsItem response, Partition? partition, long fetchOffset, int maxBytes)
    {
        public FetchResponseData.ResponsesItem.PartitionsItem Response { get; } = response;
        public Partition? Partition { get; } = partition;
        public long FetchOffset { get; } = fetchOffset;
        public int MaxBytes { get; } = maxBytes;
        public LogReadResult Read { get; set; }
        /// <summary>The partition's last stable offset as of the read (at most its log end then).</summary>
        public long LastStableOffset { get; set; } = -1;
    }

    public override async ValueTask<FetchResponseData> HandleAsync(FetchRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        short version = context.Version;
        var response = new FetchResponseData();
        if (version >= 7 && request.SessionEpoch > 0)
        {
            // A session we never created (we answer every request with session id 0).
            response.ErrorCode = (short)KafkaError.FetchSessionIdNotFound;
            return response;
        }

        // A follower's fetch (replica_id >= 0) reads up to the log end and tells the leader how far the follower has come.
        int replicaId = version >= 15 ? request.ReplicaState.ReplicaId : request.ReplicaId;
        var slots = Resolve(request, version, response, replicaId);
        int maxWaitMs = request.MaxWaitMs;
        int minBytes = request.MinBytes;
        int maxBytes = version >= 3 ? request.MaxBytes : int.MaxValue;
        if (maxBytes <= 0) maxBytes = int.MaxValue;
        bool readCommitted = version >= 4 && request.IsolationLevel == 1;

        var deadline = services.Time.GetUtcNow().AddMilliseconds(Math.Max(0, maxWaitMs));
        var waitable = maxWaitMs > 0 ? slots.Where(s => s.Partition is not null).Select(s => s.Partition!).ToList() : [];
        while (true)
        {
            // Subscribe before reading, so an append between the read and the wait is not missed.
            var appended = waitable.Count > 0 ? new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) : null;
            foreach (var partition in waitable) partition.AddAppendWaiter(appended!);
            try
            {
                var (available, error) = ReadAll(slots, maxBytes, readCommitted, replicaId >= 0);
                var left = deadline - services.Time.GetUtcNow();
                if (error || available >= minBytes || appended is null || left <= TimeSpan.Zero || cancellationToken.IsCancellationRequested)
                    break;
                services.Metrics.FetchWaitStarted();
                try
                {
                    await appended.Task.WaitAsync(left, services.Time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                finally
                {
                    services.Metrics.FetchWaitEnded();
                }
            }
            finally
            {
                foreach (var partition in waitable) partition.RemoveAppendWaiter(appended!);
            }
        }
        AttachRecords(slots, context, readCommitted, services.Metrics, replicaId >= 0);
        if (version < 4) DownConvert(slots, version);
        return response;
    }

    /// <summary>Finds each partition and fills the errors that need no reading.</summary>
    private List<Slot> Resolve(FetchRequestData request, short version, FetchResponseData response, int replicaId)
    {
        var slots = new List<Slot>();
        var metadata = services.Metadata;
        foreach (var topic in request.Topics)
        {
            var topicResponse = new FetchResponseData.ResponsesItem();
            response.Responses.Add(topicResponse);
            string? name;
            KafkaError topicError = KafkaError.None;
            if (version >= 13)
            {
                var id = topic.TopicId;
                topicResponse.TopicId = id;
                name = metadata.GetTopic(id)?.Name;
                if (name is null) topicError = KafkaError.UnknownTopicId;
            }
            else
            {
                name = topic.Topic;
                topicResponse.Topic = name;
            }
            foreach (var p in topic.Partitions)
            {
                int index = p.Partition;
                var partitionResponse = new FetchResponseData.ResponsesItem.PartitionsItem
                {
                    PartitionIndex = index, HighWatermark = -1, LastStableOffset = -1, LogStartOffset = -1,
                    Records = ReadOnlyMemory<byte>.Empty,
                    AbortedTransactions = null, // null, as Kafka sends for read_uncommitted
                };
                topicResponse.Partitions.Add(partitionResponse);
                var partition = name is null ? null : services.Replicas.Get(name, index);
                var error = topicError;
                if (error == KafkaError.None && partition is null)
                    error = metadata.GetPartition(name!, index) is null ? KafkaError.UnknownTopicOrPartition : KafkaError.NotLeaderOrFollower;
                if (error == KafkaError.None && version >= 9 && p.CurrentLeaderEpoch is var epoch and >= 0 && epoch != partition!.LeaderEpoch)
                    error = epoch < partition.LeaderEpoch ? KafkaError.FencedLeaderEpoch : KafkaError.UnknownLeaderEpoch;
                // As Kafka: a consumer below Fetch v10 cannot read zstd, so a zstd topic refuses it outright.
                if (error == KafkaError.None && version < 10 && partition!.Log.Config.CompressionType == "zstd")
                    error = KafkaError.UnsupportedCompressionType;
                if (error != KafkaError.None)
                {
                    partitionResponse.ErrorCode = (short)error;
                    partition = null;
                }
                else if (replicaId >= 0)
                {
                    partition!.RecordFollowerFetch(replicaId, p.FetchOffset, services.Time.GetUtcNow().ToUnixTimeMilliseconds());
                }
                slots.Add(new Slot(partitionResponse, partition, p.FetchOffset, p.PartitionMaxBytes));
            }
        }
        return slots;
    }

    /// <summary>
    /// Finds what each partition would return (positions in segment files, nothing copied yet) within the limits.
    /// Returns the bytes available and whether any partition failed (which answers the fetch at once, as in Kafka).
    /// </summary>
    private static (long Bytes, bool Error) ReadAll(List<Slot> slots, int maxBytes, bool readCommitted, bool replica)
    {
        long total = 0;
        bool error = false;
        foreach (var slot in slots)
        {
            if (slot.Partition is not { } partition) continue;
            int limit = (int)Math.Min(slot.MaxBytes, maxBytes - total);
            bool first = total == 0;
            if (limit <= 0 && !first)
            {
                slot.Read = Empty(partition);
                slot.LastStableOffset = Math.Min(partition.Log.LastStableOffset, slot.Read.LogEndOffset);
                continue;
            }
            try
            {
                // Captured before the read, so they are at most the log end the read sees. Consumers read only what
                // every in-sync replica has (below the high watermark); a follower reads to the log end.
                long stable = partition.Log.LastStableOffset, hw = partition.HighWatermark;
                var read = partition.Log.Read(slot.FetchOffset, Math.Max(limit, 1), replica ? long.MaxValue : readCommitted ? stable : hw);
                slot.LastStableOffset = stable;
                // Only the first partition with data may go over the limits (with one whole batch).
                if (!first && read.Records.Length > limit) read = read with { Records = FileRecords.Empty };
                slot.Read = read;
                slot.Response.ErrorCode = 0;
                total += read.Records.Length;
            }
            catch (LogException e)
            {
                slot.Response.ErrorCode = (short)e.Error;
                slot.Read = Empty(partition);
                slot.LastStableOffset = Math.Min(partition.Log.LastStableOffset, slot.Read.LogEndOffset);
                error = true;
            }
            catch (ObjectDisposedException)
            {
                slot.Response.ErrorCode = (short)KafkaError.NotLeaderOrFollower;
                slot.Read = default;
                error = true;
            }
        }
        return (total, error);
    }

    /// <summary>The aborted transactions overlapping [fetch offset, where the read stopped): always a list, empty if none.</summary>
    private static void AddAbortedTransactions(Slot slot)
    {
        var aborted = slot.Response.AbortedTransactions = [];
        if (slot.Read.Records.IsEmpty || slot.Partition is not { } partition) return;
        foreach (var (producerId, firstOffset) in partition.Log.CollectAbortedTransactions(slot.FetchOffset, slot.Read.HighWatermark))
            aborted.Add(new() { ProducerId = producerId, FirstOffset = firstOffset });
    }

    private static LogReadResult Empty(Partition partition) =>
        new(FileRecords.Empty, partition.HighWatermark, partition.Log.LogStartOffset, partition.Log.LogEndOffset);

    /// <summary>
    /// Gives every partition's batches to the response as file regions, held open until the response is written (the
    /// connection reads them straight into its send buffers); for read_committed, lists the aborted transactions
    /// reaching into the returned range. A segment closed since the read (retention with file.delete.delay.ms=0, a
    /// deleted topic) answers NOT_LEADER_OR_FOLLOWER for its partition, so the client fetches again.
    /// </summary>
    private static void AttachRecords(List<Slot> slots, RequestContext context, bool readCommitted, Metrics.BrokerMetrics metrics, bool byFollower)
    {
        foreach (var slot in slots)
        {
            if (slot.Partition is null) continue;
            var read = slot.Read;
            slot.Response.HighWatermark = Math.Min(slot.Partition.HighWatermark, read.LogEndOffset);
            slot.Response.LastStableOffset = slot.LastStableOffset;
            slot.Response.LogStartOffset = read.LogStartOffset;
            if (readCommitted) AddAbortedTransactions(slot);
            if (read.Records.IsEmpty) continue;
            FileRegionBytes held;
            try
            {
                held = read.Records.Hold();
            }
            catch (ObjectDisposedException)
            {
                slot.Response.ErrorCode = (short)KafkaError.NotLeaderOrFollower;
                continue;
            }
            context.DisposeAfterResponse(held);
            slot.Response.Records = held.Memory;
            metrics.Fetched(slot.Partition.Topic, read.Records.Length, byFollower);
        }
    }

    /// <summary>Rewrites each partition's records as magic 0 (v0-1) or magic 1 (v2-3) messages for an old fetcher.</summary>
    private void DownConvert(List<Slot> slots, short version)
    {
        byte magic = version <= 1 ? (byte)0 : (byte)1;
        foreach (var slot in slots)
        {
            if (slot.Partition is not { } partition || slot.Read.Records.IsEmpty) continue;
            if (slot.Response.Records is not { Length: > 0 } records) continue;
            if (!partition.Log.Config.DownConversionEnable)
            {
                slot.Response.ErrorCode = (short)KafkaError.UnsupportedVersion;
                slot.Response.Records = ReadOnlyMemory<byte>.Empty;
                continue;
            }
            using var output = new KafkaWriter(records.Length + 64);
            try
            {
                LegacyRecords.WriteDownConverted(records, magic, slot.FetchOffset, output);
            }
            catch (KafkaProtocolException e)
            {
                services.Loggers.CreateLogger("Quill.Broker.Fetch").LogWarning(
                    "Down-converting {Topic}-{Partition} from offset {Offset} failed: {Reason}", partition.Topic, partition.Index, slot.FetchOffset, e.Message);
                slot.Response.ErrorCode = (short)KafkaError.CorruptMessage;
                slot.Response.Records = ReadOnlyMemory<byte>.Empty;
                continue;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // Converting reads the batches from the segment file here (the only copy this path keeps).
                slot.Response.ErrorCode = (short)KafkaError.NotLeaderOrFollower;
                slot.Response.Records = ReadOnlyMemory<byte>.Empty;
                continue;
            }
            slot.Response.Records = output.ToArray();
        }
    }
}
