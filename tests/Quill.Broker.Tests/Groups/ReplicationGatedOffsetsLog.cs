using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Groups;

/// <summary>
/// An offsets log whose writes are appended at once but replicated only when (and in the order) the test says so, with the outcome it
/// chooses (followers that are slow, or an ISR that shrinks below min.insync.replicas).
/// </summary>
internal sealed class ReplicationGatedOffsetsLog
{
    private readonly object _lock = new();
    private readonly List<TaskCompletionSource<KafkaError>> _waiting = [];
    private bool _gated;

    /// <summary>From now on, writes wait for <see cref="Replicate"/>.</summary>
    public void Hold()
    {
        lock (_lock) _gated = true;
    }

    /// <summary>The number of writes waiting for their replication.</summary>
    public int Waiting
    {
        get { lock (_lock) return _waiting.Count; }
    }

    /// <summary>Completes once <paramref name="writes"/> writes wait for their replication (fails after 30 s).</summary>
    public async Task UntilWaitingAsync(int writes)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Waiting != writes)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{Waiting} writes wait for replication, never {writes}");
            await Task.Delay(10);
        }
    }

    /// <summary>Ends the replication of every write waiting so far with <paramref name="outcome"/>, oldest first.</summary>
    public void Replicate(KafkaError outcome)
    {
        List<TaskCompletionSource<KafkaError>> waiting;
        lock (_lock)
        {
            waiting = [.. _waiting];
            _waiting.Clear();
        }
        foreach (var write in waiting) write.SetResult(outcome);
    }

    /// <summary>Ends the replication of the newest write waiting only.</summary>
    public void ReplicateNewest(KafkaError outcome)
    {
        TaskCompletionSource<KafkaError> newest;
        lock (_lock)
        {
            newest = _waiting[^1];
            _waiting.RemoveAt(_waiting.Count - 1);
        }
        newest.SetResult(outcome);
    }

    public IOffsetsLog Wrap(IOffsetsLog inner) => new Log(this, inner);

    private sealed class Log(ReplicationGatedOffsetsLog gate, IOffsetsLog inner) : IOffsetsLog
    {
        public int PartitionCount => inner.PartitionCount;
        public void Append(int partition, ReadOnlyMemory<byte> batch) => inner.Append(partition, batch);
        public IEnumerable<RecordBatch> ReadAll(int partition) => inner.ReadAll(partition);

        public Task<KafkaError> WhenReplicatedAsync(int partition)
        {
            lock (gate._lock)
            {
                if (!gate._gated) return Task.FromResult(KafkaError.None);
                var write = new TaskCompletionSource<KafkaError>(TaskCreationOptions.RunContinuationsAsynchronously);
                gate._waiting.Add(write);
                return write.Task;
            }
        }
    }
}
