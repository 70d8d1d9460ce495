using Quill.Broker.Groups;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Groups;

/// <summary>An offsets log whose appends to one partition wait until the test releases them (a slow disk).</summary>
internal sealed class GatedOffsetsLog
{
    private readonly ManualResetEventSlim _open = new(true);
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _partition = -1;

    public Task Held => _held.Task;

    public void Hold(int partition)
    {
        _partition = partition;
        _open.Reset();
    }

    public void Release() => _open.Set();

    public IOffsetsLog Wrap(IOffsetsLog inner) => new Log(this, inner);

    private sealed class Log(GatedOffsetsLog gate, IOffsetsLog inner) : IOffsetsLog
    {
        public int PartitionCount => inner.PartitionCount;

        public void Append(int partition, ReadOnlyMemory<byte> batch)
        {
            if (partition == Volatile.Read(ref gate._partition))
            {
                gate._held.TrySetResult();
                if (!gate._open.Wait(TimeSpan.FromSeconds(60))) throw new IOException("the test never released the write");
            }
            inner.Append(partition, batch);
        }

        public IEnumerable<RecordBatch> ReadAll(int partition) => inner.ReadAll(partition);
    }
}
