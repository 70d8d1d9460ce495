using System.IO.Hashing;
using System.Text;

namespace Quill.Streams.Runtime;

/// <summary>
/// Which keyed task owns a key: a hash of the key modulo the parallelism. Strings hash by their UTF-8 bytes (xxHash32),
/// so the slot of a key is the same in every process (.NET's string hash is randomized per process), which restoring
/// keyed state into a restarted job relies on. Other keys use their own GetHashCode.
/// </summary>
public static class KeySlots
{
    public static int SlotOf<TKey>(TKey key, int parallelism) where TKey : notnull
    {
        uint hash = key is string s ? XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(s)) : (uint)key.GetHashCode();
        return (int)(hash % (uint)parallelism);
    }
}
