using System.Buffers.Binary;

namespace Quill.Broker.Log;

/// <summary>
/// The sparse offset index of one segment (Kafka's <c>.index</c>): 8-byte entries of relative offset (int32,
/// offset - base) and file position (int32) of a batch, one every index.interval.bytes. File, memory and threading
/// as <see cref="AbstractIndex{TEntry}"/> says.
/// </summary>
public sealed class OffsetIndex(string path, long baseOffset, int maxIndexBytes)
    : AbstractIndex<OffsetIndex.Entry>(path, baseOffset, maxIndexBytes)
{
    public const int EntrySize = 8;

    public readonly record struct Entry(int RelativeOffset, int Position) : IIndexEntry<Entry>
    {
        public static int Size => EntrySize;

        public static Entry Read(ReadOnlySpan<byte> bytes) =>
            new(BinaryPrimitives.ReadInt32BigEndian(bytes), BinaryPrimitives.ReadInt32BigEndian(bytes[4..]));

        public void Write(Span<byte> bytes)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes, RelativeOffset);
            BinaryPrimitives.WriteInt32BigEndian(bytes[4..], Position);
        }
    }

    public (long Offset, int Position) this[int i] => Absolute(EntryAt(i));

    public (long Offset, int Position)? LastEntry => Count == 0 ? null : this[Count - 1];

    /// <summary>Adds an entry; offsets and positions must grow. Called by the log's single writer.</summary>
    public void Append(long offset, int position)
    {
        if (IsFull) throw new InvalidOperationException($"offset index {Path} is full");
        int n = Count;
        if (n > 0 && (offset <= this[n - 1].Offset || position <= this[n - 1].Position))
            throw new InvalidOperationException($"offset index entry ({offset}, {position}) does not follow {this[n - 1]}");
        AppendEntry(new Entry((int)(offset - BaseOffset), position));
    }

    /// <summary>The last entry whose offset is at most <paramref name="offset"/>, or (base, 0) when none is.</summary>
    public (long Offset, int Position) Lookup(long offset)
    {
        var (index, entry) = FindLast(static e => e.RelativeOffset, offset - BaseOffset);
        return index < 0 ? (BaseOffset, 0) : Absolute(entry);
    }

    /// <summary>The last entry whose position is at most <paramref name="position"/>, or (base, 0).</summary>
    public (long Offset, int Position) LookupByPosition(int position)
    {
        var (index, entry) = FindLast(static e => e.Position, position);
        return index < 0 ? (BaseOffset, 0) : Absolute(entry);
    }

    /// <summary>
    /// Checks the loaded entries against the segment: whole entries, offsets and positions strictly growing,
    /// positions inside the log file. Kafka runs the same kind of check before trusting an index.
    /// </summary>
    public bool IsSane(long logSize)
    {
        if (!FileLengthIsWhole) return false;
        for (int i = 0; i < Count; i++)
        {
            var (offset, position) = this[i];
            if (offset < BaseOffset || position < 0 || position >= logSize) return false;
            if (i > 0 && (offset <= this[i - 1].Offset || position <= this[i - 1].Position)) return false;
        }
        return true;
    }

    /// <summary>Drops entries at or after <paramref name="offset"/> (after cutting a torn tail).</summary>
    public void TruncateTo(long offset)
    {
        int keep = 0;
        while (keep < Count && this[keep].Offset < offset) keep++;
        TruncateToEntries(keep);
    }

    private (long Offset, int Position) Absolute(Entry entry) => (BaseOffset + entry.RelativeOffset, entry.Position);
}
