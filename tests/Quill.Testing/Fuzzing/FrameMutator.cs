using System.Buffers.Binary;

namespace Quill.Testing.Fuzzing;

/// <summary>The ways <see cref="FrameMutator"/> changes a frame, counted for the run's summary.</summary>
public enum Mutation
{
    None,
    BitFlip,
    RandomByte,
    InterestingInteger,
    Arithmetic,
    Truncate,
    Extend,
    DeleteRange,
    DuplicateRange,
    Splice,
    LengthPrefix,
}

/// <summary>
/// Mutation fuzzing for protocols that frame messages as a 4-byte big-endian length and a payload (ZooKeeper's and
/// Kafka's both do). Given valid payloads (seeds), it makes frames that are a little wrong in the ways that find
/// bugs in decoders: flipped bits, odd bytes, boundary integers where lengths and counts live, small off-by-n
/// changes, cut or extended payloads, chunks deleted or repeated, two seeds spliced, and length prefixes that lie.
/// Several mutations are stacked on one frame; some frames go out unmutated so that the server gets far enough into
/// a conversation (a session, a node) for the next mutated frame to reach deeper code. Not thread-safe: one per
/// worker. Reproducible from its seed.
/// </summary>
public sealed class FrameMutator
{
    private static readonly long[] Interesting =
    [
        0, 1, -1, 2, -2, 16, 64, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0xfffff, 0x100000,
        int.MaxValue, int.MinValue, int.MaxValue - 1, uint.MaxValue, long.MaxValue, long.MinValue,
    ];

    private readonly IReadOnlyList<byte[]> _seeds;
    private readonly long[] _counts = new long[Enum.GetValues<Mutation>().Length];

    /// <param name="seeds">Valid payloads (without the length prefix); at least one.</param>
    /// <param name="randomSeed">Makes the run reproducible.</param>
    /// <param name="unmutatedShare">The share of frames sent as they are.</param>
    /// <param name="lyingPrefixShare">The share of frames whose length prefix does not match their payload.</param>
    /// <param name="headerLength">
    /// Bytes at the start of every payload that say what the rest is (a request type, an API key). A server rightly
    /// ends the connection over a bad one, and then reads nothing more of it: so most mutations leave them alone and
    /// go to the body, where the decoders are.
    /// </param>
    /// <param name="headerMutationShare">The share of mutated frames whose header may be mutated too.</param>
    public FrameMutator(IReadOnlyList<byte[]> seeds, int randomSeed, double unmutatedShare = 0.1, double lyingPrefixShare = 0.01,
        int headerLength = 0, double headerMutationShare = 0.05)
    {
        if (seeds.Count == 0) throw new ArgumentException("at least one seed frame is needed", nameof(seeds));
        if (seeds.Any(s => s.Length < headerLength)) throw new ArgumentException($"every seed must hold a {headerLength}-byte header", nameof(seeds));
        _seeds = seeds;
        Random = new Random(randomSeed);
        UnmutatedShare = unmutatedShare;
        LyingPrefixShare = lyingPrefixShare;
        HeaderLength = headerLength;
        HeaderMutationShare = headerMutationShare;
    }

    public Random Random { get; }
    public IReadOnlyList<byte[]> Seeds => _seeds;
    public double UnmutatedShare { get; }
    public double LyingPrefixShare { get; }
    public int HeaderLength { get; }
    public double HeaderMutationShare { get; }

    /// <summary>How often each mutation was applied so far.</summary>
    public IReadOnlyDictionary<Mutation, long> Counts =>
        Enum.GetValues<Mutation>().ToDictionary(m => m, m => _counts[(int)m]);

    /// <summary>A seed payload, unchanged.</summary>
    public byte[] PickSeed() => _seeds[Random.Next(_seeds.Count)];

    /// <summary>The next frame on the wire: a length prefix and a (usually) mutated seed.</summary>
    public byte[] NextFrame()
    {
        var payload = PickSeed();
        if (Random.NextDouble() >= UnmutatedShare) payload = Mutate(payload);
        else _counts[(int)Mutation.None]++;
        return Frame(payload);
    }

    /// <summary>The payload with one to four mutations stacked on it (on its body only, mostly).</summary>
    public byte[] Mutate(byte[] payload)
    {
        int skip = payload.Length >= HeaderLength && Random.NextDouble() >= HeaderMutationShare ? HeaderLength : 0;
        var bytes = payload[skip..];
        int stack = 1 + (Random.Next(8) switch { < 4 => 0, < 6 => 1, 6 => 2, _ => 3 });
        for (int i = 0; i < stack; i++) bytes = MutateOnce(bytes, skip);
        return skip == 0 ? bytes : [.. payload.AsSpan(0, skip), .. bytes];
    }

    /// <summary>Frames a payload: its true length, or now and then a length that lies.</summary>
    public byte[] Frame(ReadOnlySpan<byte> payload)
    {
        int length = payload.Length;
        if (Random.NextDouble() < LyingPrefixShare)
        {
            _counts[(int)Mutation.LengthPrefix]++;
            length = Random.Next(4) switch
            {
                0 => length + Random.Next(1, 9),
                1 => Math.Max(0, length - Random.Next(1, 9)),
                2 => (int)Interesting[Random.Next(Interesting.Length)],
                _ => Random.Next(),
            };
        }
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, length);
        payload.CopyTo(frame.AsSpan(4));
        return frame;
    }

    /// <param name="input">The part of a payload being mutated.</param>
    /// <param name="skip">How much of the front of each payload that part leaves out (splices take the same part of another seed).</param>
    private byte[] MutateOnce(byte[] input, int skip)
    {
        var kind = (Mutation)Random.Next((int)Mutation.BitFlip, (int)Mutation.Splice + 1);
        if (input.Length == 0 && kind is not (Mutation.Extend or Mutation.Splice)) kind = Mutation.Extend;
        _counts[(int)kind]++;
        var bytes = (byte[])input.Clone();
        switch (kind)
        {
            case Mutation.BitFlip:
                for (int n = 1 + Random.Next(3); n > 0; n--) bytes[Random.Next(bytes.Length)] ^= (byte)(1 << Random.Next(8));
                return bytes;
            case Mutation.RandomByte:
                for (int n = 1 + Random.Next(3); n > 0; n--) bytes[Random.Next(bytes.Length)] = (byte)Random.Next(256);
                return bytes;
            case Mutation.InterestingInteger:
            {
                long value = Interesting[Random.Next(Interesting.Length)];
                WriteInteger(bytes, AlignedOffset(bytes.Length), Random.Next(4) switch { 0 => 1, 1 => 2, 2 => 8, _ => 4 }, value);
                return bytes;
            }
            case Mutation.Arithmetic:
            {
                // Off-by-n in a 4-byte field: where lengths, counts, versions and types live.
                int at = AlignedOffset(bytes.Length);
                if (at + 4 > bytes.Length) goto case Mutation.RandomByte;
                int delta = Random.Next(1, 17) * (Random.Next(2) == 0 ? 1 : -1);
                BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at)) + delta);
                return bytes;
            }
            case Mutation.Truncate:
                return bytes[..Random.Next(bytes.Length)];
            case Mutation.Extend:
            {
                var tail = new byte[1 + Random.Next(Random.Next(2) == 0 ? 8 : 64)];
                if (Random.Next(2) == 0) Random.NextBytes(tail);
                return [.. bytes, .. tail];
            }
            case Mutation.DeleteRange:
            {
                int at = Random.Next(bytes.Length);
                int count = 1 + Random.Next(Math.Min(16, bytes.Length - at));
                return [.. bytes.AsSpan(0, at), .. bytes.AsSpan(at + count)];
            }
            case Mutation.DuplicateRange:
            {
                int at = Random.Next(bytes.Length);
                int count = 1 + Random.Next(Math.Min(32, bytes.Length - at));
                int to = Random.Next(bytes.Length + 1);
                return [.. bytes.AsSpan(0, to), .. bytes.AsSpan(at, count), .. bytes.AsSpan(to)];
            }
            default:
            {
                // Splice: the front of this frame and the back of another seed.
                var other = PickSeed().AsSpan(skip);
                int cut = Random.Next(bytes.Length + 1);
                int from = Random.Next(other.Length + 1);
                return [.. bytes.AsSpan(0, cut), .. other[from..]];
            }
        }
    }

    /// <summary>Mostly a multiple of 4 (fields of these protocols mostly start there), sometimes anywhere.</summary>
    private int AlignedOffset(int length)
    {
        int at = Random.Next(length);
        return Random.Next(4) == 0 ? at : at & ~3;
    }

    private static void WriteInteger(byte[] bytes, int at, int size, long value)
    {
        // Big-endian, cut off at the end of the frame.
        for (int i = 0; i < size && at + i < bytes.Length; i++)
            bytes[at + i] = (byte)(value >> (8 * (size - 1 - i)));
    }
}
