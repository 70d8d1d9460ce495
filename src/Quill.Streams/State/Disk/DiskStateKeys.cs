using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.State.Disk;

/// <summary>
/// How state entries are keyed in the database. A state's prefix is
/// <c>tag, operator id, task, state name</c> (strings as a 2-byte length and UTF-8); an entry adds the key's JSON
/// (<see cref="StateJson"/>, the checkpoint's form) after a 4-byte length, and a map entry then the map key's JSON.
/// Lengths make every prefix end where it should, so one state's scan never reads another's entries. Values are the
/// JSON of what the in-memory backend would checkpoint for the entry. Big-endian, so a state's entries sort by key.
/// </summary>
internal static class DiskStateKeys
{
    /// <summary>A registered state's entries.</summary>
    public const byte StateTag = 1;

    /// <summary>Entries restored from a checkpoint for a state not registered yet (its types are not known until then): checkpoint JSON as it came.</summary>
    public const byte PendingTag = 2;

    /// <summary>Timers (<see cref="DiskTimerQueue{TKey}"/>): the state name is the time domain, then the time, then the key.</summary>
    public const byte TimerTag = 3;

    public static byte[] Prefix(byte tag, string operatorId, int subtask, string name)
    {
        var bytes = new List<byte>(64) { tag };
        AddString(bytes, operatorId);
        Span<byte> task = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(task, subtask);
        bytes.AddRange(task);
        AddString(bytes, name);
        return [.. bytes];
    }

    private static void AddString(List<byte> bytes, string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        if (utf8.Length > ushort.MaxValue) throw new ArgumentException($"name too long: {value[..40]}...");
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)utf8.Length);
        bytes.AddRange(length);
        bytes.AddRange(utf8);
    }

    /// <summary>prefix + length + key (+ map key).</summary>
    public static byte[] Entry(byte[] prefix, byte[] key, ReadOnlySpan<byte> mapKey = default)
    {
        var entry = new byte[prefix.Length + 4 + key.Length + mapKey.Length];
        prefix.CopyTo(entry, 0);
        BinaryPrimitives.WriteInt32BigEndian(entry.AsSpan(prefix.Length), key.Length);
        key.CopyTo(entry, prefix.Length + 4);
        mapKey.CopyTo(entry.AsSpan(prefix.Length + 4 + key.Length));
        return entry;
    }

    /// <summary>The key's JSON and the map key's JSON (empty for states that are not maps) of an entry under <paramref name="prefixLength"/>.</summary>
    public static (ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> MapKey) Split(byte[] entry, int prefixLength)
    {
        int keyLength = BinaryPrimitives.ReadInt32BigEndian(entry.AsSpan(prefixLength));
        int keyStart = prefixLength + 4;
        return (entry.AsMemory(keyStart, keyLength), entry.AsMemory(keyStart + keyLength));
    }

    /// <summary>A timer's entry: prefix, then the time (8 bytes big-endian with the sign bit flipped, so entries sort by time, negative times first), then the key's JSON.</summary>
    public static byte[] TimerEntry(byte[] prefix, byte[] keyJson, long time)
    {
        var bytes = new byte[prefix.Length + 8 + keyJson.Length];
        prefix.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(prefix.Length), (ulong)(time ^ long.MinValue));
        keyJson.CopyTo(bytes, prefix.Length + 8);
        return bytes;
    }

    /// <summary>The time and the key's JSON of a timer's entry under <paramref name="prefixLength"/>.</summary>
    public static (long Time, ReadOnlyMemory<byte> Key) SplitTimer(byte[] entry, int prefixLength) =>
        ((long)BinaryPrimitives.ReadUInt64BigEndian(entry.AsSpan(prefixLength)) ^ long.MinValue, entry.AsMemory(prefixLength + 8));

    public static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, StateJson.Options);

    public static T FromJson<T>(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize<T>(json, StateJson.Options)!;

    /// <summary>The time of a stored <see cref="Stamped{T}"/>, read without deserializing its value (what the cleanup of expired state checks).</summary>
    public static long StampedAt(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool at = reader.ValueTextEquals("At"u8);
            reader.Read();
            if (at) return reader.GetInt64();
            reader.Skip();
        }
        throw new InvalidDataException("a stored value with a time to live has no time");
    }

    /// <summary>
    /// The time of the first element of a stored list of <see cref="Stamped{T}"/> (null for an empty list), read without
    /// the rest: elements are stamped in the order they are added, so the first is the oldest.
    /// </summary>
    public static long? FirstStampedAt(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool at = reader.ValueTextEquals("At"u8);
            reader.Read();
            if (at) return reader.GetInt64();
            reader.Skip();
        }
        throw new InvalidDataException("a stored list element with a time to live has no time");
    }

    public static JsonElement Element(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize<JsonElement>(json);
}
