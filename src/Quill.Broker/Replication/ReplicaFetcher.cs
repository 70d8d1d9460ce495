using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Quill.Broker.Log;
using Quill.Broker.Metadata;
using Quill.Broker.Partitions;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Broker.Replication;

/// <summary>
/// One loop fetching, for every partition this broker follows on one leader, in one Fetch request (Kafka's
/// ReplicaFetcherThread, replica_id = this broker). A partition that starts following first has its log truncated where
/// it may diverge from the leader's (KIP-101/279: OffsetForLeaderEpoch for the epoch of its last batch, cut at the end
/// the leader gives for it), then fetches from its log end; the leader's batches are appended as they are, and the high
/// watermark the leader reports is kept. Errors on the connection close it and retry after a back-off; a partition's
/// own error backs off that partition only (a leadership change reaches it through Keeper).
/// </summary>
public sealed class ReplicaFetcher : IAsyncDisposable
{
    private const short FetchVersion = 12, EpochVersion = 3;
    private const int MaxBytes = 10 * 1024 * 1024, PartitionMaxBytes = 1024 * 1024;
    private static readonly TimeSpan Backoff = TimeSpan.FromSeconds(1);
    private readonly object _lock = new();
    private readonly Dictionary<Partition, FetchState> _partitions = [];
    private readonly MetadataCache _cache;
    private readonly BrokerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    public Metrics.BrokerMetrics? Metrics { get; init; }
    private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TcpClient? _client;
    private int _correlationId;

    public ReplicaFetcher(int leaderId, MetadataCache cache, BrokerOptions options, TimeProvider time, ILogger log)
    {
        LeaderId = leaderId;
        _cache = cache;
        _options = options;
        _time = time;
        _log = log;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    public int LeaderId { get; }

    public void Add(Partition partition)
    {
        lock (_lock) _partitions[partition] = new FetchState(partition.LeaderEpoch);
        _added.TrySetResult();
    }

    /// <summary>Stops fetching a partition; once this returns, no append of this fetcher's reaches its log.</summary>
    public void Remove(Partition partition)
    {
        lock (_lock) _partitions.Remove(partition);
    }

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            List<(Partition Partition, FetchState State)> work;
            lock (_lock)
            {
                long now = NowMs;
                work = [.. _partitions.Where(p => p.Value.BackoffUntilMs <= now).Select(p => (p.Key, p.Value))];
                if (work.Count == 0) _added = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            try
            {
                if (work.Count == 0)
                {
                    await _added.Task.WaitAsync(TimeSpan.FromMilliseconds(200), _time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    continue;
                }
                var stream = await ConnectAsync(ct);
                if (stream is null)
                {
                    await Task.Delay(Backoff, _time, ct);
                    continue;
                }
                var truncating = work.Where(w => w.State.NeedsTruncation).ToList();
                if (truncating.Count > 0) await TruncateAsync(stream, truncating, ct);
                var fetching = work.Where(w => !w.State.NeedsTruncation).ToList();
                if (fetching.Count > 0) await FetchAsync(stream, fetching, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or SocketException or EndOfStreamException or KafkaProtocolException
                or OperationCanceledException or ObjectDisposedException)
            {
                _log.LogInformation("Fetching from broker {Leader} failed ({Reason}); retrying in {Seconds}s", LeaderId, e.Message, Backoff.TotalSeconds);
                CloseConnection();
                await Task.Delay(Backoff, _time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            catch (Exception e)
            {
                _log.LogError(e, "Fetching from broker {Leader} failed", LeaderId);
                CloseConnection();
                await Task.Delay(Backoff, _time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task<NetworkStream?> ConnectAsync(CancellationToken ct)
    {
        if (_client is { Connected: true }) return _client.GetStream();
        CloseConnection();
        if (_cache.InterBrokerEndpoint(LeaderId) is not { } leader) return null;
        var client = new TcpClient { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            await client.ConnectAsync(leader.Host, leader.Port, timeout.Token);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        _client = client;
        return client.GetStream();
    }

    private void CloseConnection()
    {
        _client?.Dispose();
        _client = null;
    }

    /// <summary>
    /// KIP-101/279 in one round: the leader says where our last epoch ends in its log (or the latest epoch below it
    /// that it has, with its end). We cut at that end, and also at the end of that epoch in our own log when the
    /// leader answered an older epoch, so nothing written under an epoch the leader never had survives.
    /// </summary>
    private async Task TruncateAsync(NetworkStream stream, List<(Partition Partition, FetchState State)> work, CancellationToken ct)
    {
        var request = new OffsetForLeaderEpochRequestData { ReplicaId = _options.BrokerId };
        var asked = new Dictionary<(string, int), (Partition Partition, FetchState State, int Epoch)>();
        foreach (var group in work.GroupBy(w => w.Partition.Topic))
        {
            var topic = new OffsetForLeaderEpochRequestData.TopicsItem { Topic = group.Key };
            foreach (var (partition, state) in group)
            {
                int lastEpoch = partition.Log.LastLeaderEpoch();
                if (lastEpoch < 0)
                {
                    state.NeedsTruncation = false; // an empty log has nothing to diverge
                    continue;
                }
                topic.Partitions.Add(new() { Partition = partition.Index, CurrentLeaderEpoch = state.LeaderEpoch, LeaderEpoch = lastEpoch });
                asked[(partition.Topic, partition.Index)] = (partition, state, lastEpoch);
            }
            if (topic.Partitions.Count > 0) request.Topics.Add(topic);
        }
        if (asked.Count == 0) return;
        var response = await RequestAsync<OffsetForLeaderEpochResponseData>(stream, request, EpochVersion, TimeSpan.FromSeconds(30), ct);
        foreach (var topic in response.Topics)
        {
            foreach (var result in topic.Partitions)
            {
                if (!asked.TryGetValue((topic.Topic, result.Partition), out var entry)) continue;
                var (partition, state, lastEpoch) = entry;
                lock (_lock)
                {
                    if (!_partitions.TryGetValue(partition, out var current) || current != state) continue;
                    var error = (KafkaError)result.ErrorCode;
                    if (error != KafkaError.None)
                    {
                        _log.LogInformation("{Partition}: broker {Leader} answered OffsetForLeaderEpoch with {Error}; retrying", partition, LeaderId, error);
                        state.BackoffUntilMs = NowMs + (long)Backoff.TotalMilliseconds;
                        continue;
                    }
                    long end = result.EndOffset;
                    if (result.LeaderEpoch < 0 || end < 0) end = partition.Log.HighWatermark; // the leader knows none of our epochs
                    else if (result.LeaderEpoch < lastEpoch) end = Math.Min(end, partition.Log.EndOffsetForEpoch(result.LeaderEpoch).EndOffset);
                    long before = partition.Log.LogEndOffset;
                    if (partition.Log.TruncateTo(end))
                        _log.LogInformation("{Partition}: truncated from {Before} to {After} to match leader {Leader} (epoch {Epoch})",
                            partition, before, partition.Log.LogEndOffset, LeaderId, state.LeaderEpoch);
                    state.NeedsTruncation = false;
                }
            }
        }
    }

    private async Task FetchAsync(NetworkStream stream, List<(Partition Partition, FetchState State)> work, CancellationToken ct)
    {
        var request = new FetchRequestData
        {
            ReplicaId = _options.BrokerId, MaxWaitMs = _options.ReplicaFetchWaitMaxMs, MinBytes = 1, MaxBytes = MaxBytes,
            IsolationLevel = 0, SessionId = 0, SessionEpoch = -1,
        };
        var sent = new Dictionary<(string, int), (Partition Partition, FetchState State, long Offset)>();
        foreach (var group in work.GroupBy(w => w.Partition.Topic))
        {
            var topic = new FetchRequestData.TopicsItem { Topic = group.Key };
            foreach (var (partition, state) in group)
            {
                long offset = partition.Log.LogEndOffset;
                topic.Partitions.Add(new()
                {
                    Partition = partition.Index, CurrentLeaderEpoch = state.LeaderEpoch, FetchOffset = offset,
                    LogStartOffset = partition.Log.LogStartOffset, PartitionMaxBytes = PartitionMaxBytes,
                });
                sent[(partition.Topic, partition.Index)] = (partition, state, offset);
            }
            request.Topics.Add(topic);
        }
        var timeout = TimeSpan.FromMilliseconds(_options.ReplicaFetchWaitMaxMs) + TimeSpan.FromSeconds(30);
        var response = await RequestAsync<FetchResponseData>(stream, request, FetchVersion, timeout, ct);
        if (response.ErrorCode != 0) throw new IOException($"fetch answered {(KafkaError)response.ErrorCode}");
        foreach (var topic in response.Responses)
        {
            foreach (var result in topic.Partitions)
            {
                if (!sent.TryGetValue((topic.Topic, result.PartitionIndex), out var entry)) continue;
                var (partition, state, offset) = entry;
                lock (_lock)
                {
                    // Appended under the lock that Remove takes: once a partition's role changes, nothing more lands.
                    if (!_partitions.TryGetValue(partition, out var current) || current != state) continue;
                    Apply(partition, state, offset, result);
                }
            }
        }
    }

    private void Apply(Partition partition, FetchState state, long offset, FetchResponseData.ResponsesItem.PartitionsItem result)
    {
        var error = (KafkaError)result.ErrorCode;
        try
        {
            switch (error)
            {
                case KafkaError.None:
                    if (partition.Log.LogEndOffset != offset) return; // truncated meanwhile; fetch again from the new end
                    if (result.Records is { Length: > 0 } records && WholeBatches(records) is { Length: > 0 } whole)
                    {
                        partition.Log.AppendAsFollower(whole);
                        Metrics?.Replicated(whole.Length);
                    }
                    partition.UpdateFollowerHighWatermark(result.HighWatermark);
                    // Retention or DeleteRecords on the leader moved its log start: the follower's moves with it.
                    if (result.LogStartOffset > partition.Log.LogStartOffset)
                        partition.Log.DeleteRecordsBefore(Math.Min(result.LogStartOffset, partition.Log.LogEndOffset));
                    return;
                case KafkaError.OffsetOutOfRange when offset < result.LogStartOffset:
                    // The leader deleted what we would fetch next (retention, DeleteRecords): start at its log start.
                    partition.Log.TruncateTo(result.LogStartOffset);
                    return;
                case KafkaError.OffsetOutOfRange:
                    state.NeedsTruncation = true;
                    return;
                default:
                    _log.LogDebug("{Partition}: broker {Leader} answered the fetch with {Error}", partition, LeaderId, error);
                    state.BackoffUntilMs = NowMs + (long)Backoff.TotalMilliseconds;
                    return;
            }
        }
        catch (LogException e)
        {
            _log.LogWarning("{Partition}: cannot append what broker {Leader} sent at offset {Offset}: {Error} {Reason}; truncating again",
                partition, LeaderId, offset, e.Error, e.Message);
            state.NeedsTruncation = true;
            state.BackoffUntilMs = NowMs + (long)Backoff.TotalMilliseconds;
        }
    }

    /// <summary>The whole batches at the start of <paramref name="records"/> (a response may end in part of one).</summary>
    private static ReadOnlyMemory<byte> WholeBatches(ReadOnlyMemory<byte> records)
    {
        var span = records.Span;
        int position = 0;
        while (position + 12 <= span.Length)
        {
            int size = 12 + BinaryPrimitives.ReadInt32BigEndian(span[(position + 8)..]);
            if (size < 12 || position + size > span.Length) break;
            position += size;
        }
        return records[..position];
    }

    private async Task<T> RequestAsync<T>(NetworkStream stream, IApiRequest body, short version, TimeSpan timeout, CancellationToken ct)
        where T : class, IApiResponse, IKafkaMessage<T>
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        int correlationId = ++_correlationId;
        using (var writer = new KafkaWriter())
        {
            MessageFrames.WriteRequest(writer, new RequestHeader((short)body.ApiKey, version, correlationId, $"quill-replica-{_options.BrokerId}"), body);
            await stream.WriteAsync(writer.WrittenMemory, cts.Token);
        }
        var size = new byte[4];
        await stream.ReadExactlyAsync(size, cts.Token);
        int length = BinaryPrimitives.ReadInt32BigEndian(size);
        if (length < 0 || length > MaxBytes * 2) throw new IOException($"response of {length} bytes");
        var frame = new byte[length];
        await stream.ReadExactlyAsync(frame, cts.Token);
        var (answered, response) = MessageFrames.ReadResponse<T>(frame, body.ApiKey, version);
        if (answered != correlationId) throw new IOException($"response to request {answered}, expected {correlationId}");
        return response;
    }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        CloseConnection();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    /// <summary>Where a partition stands in this fetcher: the leader epoch it follows, and whether it must truncate first.</summary>
    private sealed class FetchState(int leaderEpoch)
    {
        public int LeaderEpoch { get; } = leaderEpoch;
        public bool NeedsTruncation { get; set; } = true;
        public long BackoffUntilMs { get; set; }
    }
}
