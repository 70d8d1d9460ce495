using Quill.Broker.Log;
using Quill.Broker.Partitions;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Groups;

/// <summary>
/// The offsets log over the broker's own partition logs (one <see cref="PartitionLog"/> per partition, or, in a
/// cluster, the partitions this broker leads, looked up when used: their appends wait for the followers as acks=all
/// produces do, since a coordinator that moves must find on the new leader everything it answered).
/// </summary>
public sealed class PartitionOffsetsLog : IOffsetsLog
{
    private const int ReadChunkBytes = 1024 * 1024;
    private readonly Func<int, PartitionLog?> _partition;
    private readonly Func<int, Partition?>? _replicated;
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly TimeSpan _replicationTimeout;

    /// <param name="partitions">The logs of partitions 0..n-1 of <c>__consumer_offsets</c>, in partition order.</param>
    public PartitionOffsetsLog(IReadOnlyList<PartitionLog> partitions)
    {
        if (partitions.Count == 0) throw new ArgumentException("the offsets topic needs at least one partition", nameof(partitions));
        for (int i = 0; i < partitions.Count; i++)
            if (partitions[i].Partition != i)
                throw new ArgumentException($"partition log {i} is {partitions[i].Topic}-{partitions[i].Partition}", nameof(partitions));
        PartitionLog[] logs = [.. partitions];
        _partition = p => logs[p];
        PartitionCount = logs.Length;
    }

    /// <param name="partitionCount">The partitions of the topic.</param>
    /// <param name="partition">A partition this broker leads; null for the others (they are not read or written here).</param>
    /// <param name="replicationTimeout">How long an append waits for its followers before it counts as failed.</param>
    public PartitionOffsetsLog(int partitionCount, Func<int, Partition?> partition, TimeProvider time, TimeSpan replicationTimeout)
    {
        PartitionCount = partitionCount;
        _partition = p => partition(p)?.Log;
        _replicated = partition;
        _time = time;
        _replicationTimeout = replicationTimeout;
    }

    /// <summary>
    /// Opens (or creates) partitions 0..<paramref name="partitionCount"/>-1 of <c>__consumer_offsets</c> in a
    /// log manager, compacted as Kafka's offsets topic is, whatever config they were loaded with.
    /// </summary>
    public static PartitionOffsetsLog Open(LogManager logs, int partitionCount = OffsetsTopic.DefaultPartitionCount)
    {
        if (partitionCount < 1) throw new ArgumentOutOfRangeException(nameof(partitionCount), "offsets.topic.num.partitions must be at least 1");
        var config = OffsetsTopic.LogConfig(logs.DefaultConfig);
        var partitions = new PartitionLog[partitionCount];
        for (int p = 0; p < partitionCount; p++)
        {
            partitions[p] = logs.GetOrCreate(OffsetsTopic.Name, p, config);
            if (partitions[p].Config != config) partitions[p].UpdateConfig(config);
        }
        return new PartitionOffsetsLog(partitions);
    }

    public int PartitionCount { get; }

    /// <summary>Every partition's log (all of them must be here).</summary>
    public IReadOnlyList<PartitionLog> Partitions => [.. Enumerable.Range(0, PartitionCount).Select(Log)];

    private PartitionLog Log(int partition) =>
        _partition(partition) ?? throw new LogException(KafkaError.NotLeaderOrFollower, $"partition {partition} of the coordinator's topic is not led by this broker");

    public void Append(int partition, ReadOnlyMemory<byte> batch) => Log(partition).Append(batch, origin: AppendOrigin.Coordinator);

    public Task<KafkaError> WhenReplicatedAsync(int partition)
    {
        if (_replicated?.Invoke(partition) is not { } leader) return Task.FromResult(_replicated is null ? KafkaError.None : KafkaError.NotLeaderOrFollower);
        return leader.WaitForHighWatermarkAsync(leader.Log.LogEndOffset, leader.Log.Config.MinInSyncReplicas, _replicationTimeout, _time, CancellationToken.None);
    }

    /// <summary>
    /// Every batch of a partition, oldest first, up to the log end as it is when the read starts: on a new leader that
    /// is everything the previous one had replicated to it (what it had not is not there, and was never answered).
    /// </summary>
    public IEnumerable<RecordBatch> ReadAll(int partition)
    {
        var log = Log(partition);
        long offset = log.LogStartOffset;
        long end = log.LogEndOffset;
        while (offset < end)
        {
            var read = log.Read(offset, ReadChunkBytes);
            if (read.Records.IsEmpty) yield break;
            var batches = RecordBatch.ReadAll(read.Records.ToArray(), allowPartialTail: true);
            if (batches.Count == 0) yield break;
            foreach (var batch in batches)
            {
                if (batch.LastOffset < offset) continue;
                yield return batch;
            }
            offset = batches[^1].LastOffset + 1;
        }
    }
}
