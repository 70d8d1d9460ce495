using System.IO.Hashing;
using System.Text;

namespace Quill.Streams.Runtime;

/// <summary>
/// Which keyed task owns a key: a hash of the key modulo the parallelism. The shuffle and the restore of checkpointed
/// state both ask here, in the same process, so any key type works. Strings hash by their UTF-8 bytes (xxHash32), the
/// same in every process (.NET's own string hash is randomized per process); other keys use their GetHashCode.
/// </summary>
public static class KeySlots
{
    public static int SlotOf<TKey>(TKey key, int parallelism) where TKey : notnull
    {
        uint hash = key is string s ? XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(s)) : (uint)key.GetHashCode();
        return (int)(hash % (uint)parallelism);
    }
}
