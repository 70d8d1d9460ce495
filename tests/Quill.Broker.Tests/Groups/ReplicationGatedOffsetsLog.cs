using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Groups;

/// <summary>
/// An offsets log whose writes are appended at once but replicated only when the test says so, with the outcome it
/// chooses (followers that are slow, or an ISR that shrinks below min.insync.replicas).
/// </summary>
internal sealed class ReplicationGatedOffsetsLog
{
    private readonly object _lock = new();
    private TaskCompletionSource<KafkaError> _next = New();
    private bool _gated;

    private static TaskCompletionSource<KafkaError> New() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>From now on, writes wait for <see cref="Replicate"/>.</summary>
    public void Hold()
    {
        lock (_lock) _gated = true;
    }

    /// <summary>Ends the replication of every write waiting so far with <paramref name="outcome"/>; later writes wait again.</summary>
    public void Replicate(KafkaError outcome)
    {
        TaskCompletionSource<KafkaError> waiting;
        lock (_lock)
        {
            waiting = _next;
            _next = New();
        }
        waiting.SetResult(outcome);
    }

    public IOffsetsLog Wrap(IOffsetsLog inner) => new Log(this, inner);

    private sealed class Log(ReplicationGatedOffsetsLog gate, IOffsetsLog inner) : IOffsetsLog
    {
        public int PartitionCount => inner.PartitionCount;
        public void Append(int partition, ReadOnlyMemory<byte> batch) => inner.Append(partition, batch);
        public IEnumerable<RecordBatch> ReadAll(int partition) => inner.ReadAll(partition);

        public Task<KafkaError> WhenReplicatedAsync(int partition)
        {
            lock (gate._lock) return gate._gated ? gate._next.Task : Task.FromResult(KafkaError.None);
        }
    }
}
