using System.Buffers.Binary;

namespace Quill.Broker.Log;

/// <summary>
/// The time index of one segment (Kafka's <c>.timeindex</c>): 12-byte entries of timestamp (int64) and
/// relative offset (int32), meaning "batches up to this offset have timestamps up to this one". Entries are
/// added with the offset index, only when the segment's max timestamp grew, so timestamps strictly increase.
/// File, memory and threading as <see cref="AbstractIndex{TEntry}"/> says.
/// </summary>
public sealed class TimeIndex(string path, long baseOffset, int maxIndexBytes)
    : AbstractIndex<TimeIndex.Entry>(path, baseOffset, maxIndexBytes)
{
    public const int EntrySize = 12;

    public readonly record struct Entry(long Timestamp, int RelativeOffset) : IIndexEntry<Entry>
    {
        public static int Size => EntrySize;

        public static Entry Read(ReadOnlySpan<byte> bytes) =>
            new(BinaryPrimitives.ReadInt64BigEndian(bytes), BinaryPrimitives.ReadInt32BigEndian(bytes[8..]));

        public void Write(Span<byte> bytes)
        {
            BinaryPrimitives.WriteInt64BigEndian(bytes, Timestamp);
            BinaryPrimitives.WriteInt32BigEndian(bytes[8..], RelativeOffset);
        }
    }

    public (long Timestamp, long Offset) this[int i] => Absolute(EntryAt(i));

    public (long Timestamp, long Offset)? LastEntry => Count == 0 ? null : this[Count - 1];

    /// <summary>Adds an entry if <paramref name="timestamp"/> is newer than the last one.</summary>
    public void MaybeAppend(long timestamp, long offset)
    {
        int n = Count;
        if (n > 0 && timestamp <= this[n - 1].Timestamp) return;
        if (IsFull) return; // the segment rolls on its next append
        if (n > 0 && offset < this[n - 1].Offset)
            throw new InvalidOperationException($"time index entry ({timestamp}, {offset}) goes back from {this[n - 1]}");
        AppendEntry(new Entry(timestamp, (int)(offset - BaseOffset)));
    }

    /// <summary>
    /// The last entry with a timestamp strictly below <paramref name="timestamp"/>: every batch up to its offset
    /// is older than the target, so a scan for the first batch reaching the target may start there.
    /// </summary>
    public (long Timestamp, long Offset)? LookupBefore(long timestamp)
    {
        var (index, entry) = FindLast(static e => e.Timestamp, timestamp, strictlyBelow: true);
        return index < 0 ? null : Absolute(entry);
    }

    public bool IsSane(long nextOffset)
    {
        if (!FileLengthIsWhole) return false;
        for (int i = 0; i < Count; i++)
        {
            var (timestamp, offset) = this[i];
            if (offset < BaseOffset || offset >= nextOffset) return false;
            if (i > 0 && (timestamp <= this[i - 1].Timestamp || offset < this[i - 1].Offset)) return false;
        }
        return true;
    }

    private (long Timestamp, long Offset) Absolute(Entry entry) => (entry.Timestamp, BaseOffset + entry.RelativeOffset);
}
