using System.Buffers;

namespace Quill.Kafka.Protocol.Primitives;

/// <summary>
/// Bytes that stay where they are (a region of a segment file) until they are written: a records field holding
/// <see cref="MemoryManager{T}.Memory"/> of one is spliced into the output by <see cref="KafkaWriter.WriteRecords"/>
/// and read by the sink straight into its send buffers, as Kafka's FileRecords are sent. Code that asks for the
/// bytes themselves (<see cref="ReadOnlyMemory{T}.Span"/>) gets a copy read on first use.
/// </summary>
public abstract class ExternalBytes : MemoryManager<byte>
{
    private byte[]? _copy;

    public abstract int Length { get; }

    /// <summary>Reads exactly <c>destination.Length</c> bytes starting <paramref name="offset"/> bytes into the region.</summary>
    public abstract void ReadAt(long offset, Span<byte> destination);

    /// <summary>Without reading anything (the base class would ask <see cref="GetSpan"/> for the length).</summary>
    public override Memory<byte> Memory => CreateMemory(Length);

    public override Span<byte> GetSpan()
    {
        if (_copy is null)
        {
            var copy = new byte[Length];
            ReadAt(0, copy);
            _copy = copy;
        }
        return _copy;
    }

    /// <summary>Pins the copy (the handle returned frees its own pin).</summary>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        GetSpan();
        return _copy.AsMemory(elementIndex).Pin();
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
