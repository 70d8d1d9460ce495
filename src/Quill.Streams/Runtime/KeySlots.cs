using System.Buffers;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.Runtime;

/// <summary>
/// Which keyed task owns a key: a hash of the key modulo the parallelism. The shuffle and the restore of checkpointed
/// state both ask here, and with scale-out they ask in different processes, so the hash must be the same in every
/// process: strings hash by their UTF-8 bytes (xxHash32; .NET's own string hash is randomized per process), integers,
/// characters, booleans, enums and Guids by their own GetHashCode (a function of the value), and any other key (a record
/// or a tuple, whose GetHashCode mixes its strings' randomized hashes) by its JSON form, the one checkpoints write.
/// </summary>
public static class KeySlots
{
    public static int SlotOf<TKey>(TKey key, int parallelism) where TKey : notnull
    {
        uint hash = key switch
        {
            string s => HashUtf8(s),
            int or long or short or byte or sbyte or uint or ulong or ushort or char or bool or Guid or Enum => (uint)key.GetHashCode(),
            _ => XxHash32.HashToUInt32(JsonSerializer.SerializeToUtf8Bytes(key, StateJson.Options)),
        };
        return (int)(hash % (uint)parallelism);
    }

    /// <summary>The xxHash32 of the string's UTF-8 bytes, encoded on the stack (or a pooled buffer) instead of a new array per key.</summary>
    private static uint HashUtf8(string s)
    {
        const int StackLimit = 256;
        if (s.Length <= StackLimit / 3)
        {
            Span<byte> buffer = stackalloc byte[StackLimit];
            int length = Encoding.UTF8.GetBytes(s, buffer);
            return XxHash32.HashToUInt32(buffer[..length]);
        }
        byte[] rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(s.Length));
        try
        {
            int length = Encoding.UTF8.GetBytes(s, rented);
            return XxHash32.HashToUInt32(rented.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
