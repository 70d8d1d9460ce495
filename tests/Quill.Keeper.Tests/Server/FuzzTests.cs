using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tests.Server;

/// <summary>Mutated request bodies thrown at the decoders alone (the live server is fuzzed in Fuzzing/LiveFuzzTests).</summary>
public sealed class FuzzTests
{
    private static byte[][] ValidBodies() =>
    [
        Encode(new CreateRequest("/fuzz/a", [1, 2, 3], [.. Acl.OpenAclUnsafe], 0)),
        Encode(new SetDataRequest("/fuzz", [9], -1)),
        Encode(new PathWatchRequest("/fuzz", true)),
        Encode(new SetAclRequest("/fuzz", [.. Acl.OpenAclUnsafe], -1)),
        Encode(new SetWatchesRequest(0, ["/a"], ["/b"], ["/c"], ["/d"], ["/e"])),
        Encode(new AuthPacket(0, "digest", "a:b"u8.ToArray())),
    ];

    private static byte[] Encode(IJuteRecord record)
    {
        var w = new JuteWriter();
        record.Write(w);
        return w.ToArray();
    }

    private static byte[] Mutate(Random rng, byte[] input)
    {
        var bytes = (byte[])input.Clone();
        switch (rng.Next(4))
        {
            case 0: bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8)); break;
            case 1: return bytes[..rng.Next(bytes.Length)];
            case 2:
                int at = rng.Next(Math.Max(1, bytes.Length - 4));
                bytes[at] = 0x7F; bytes[at + 1] = 0xFF; bytes[at + 2] = 0xFF; bytes[at + 3] = (byte)rng.Next(256);
                break;
            default: bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256); bytes[rng.Next(bytes.Length)] = 0xFF; break;
        }
        return bytes;
    }

    [Fact]
    public void decoders_throw_only_jute_exception_on_mutated_input()
    {
        var rng = new Random(20261123);
        var bodies = ValidBodies();
        for (int i = 0; i < 20_000; i++)
        {
            var input = Mutate(rng, bodies[i % bodies.Length]);
            try
            {
                var r = new JuteReader(input);
                switch (i % bodies.Length)
                {
                    case 0: CreateRequest.Read(ref r, false); break;
                    case 1: SetDataRequest.Read(ref r); break;
                    case 2: PathWatchRequest.Read(ref r); break;
                    case 3: SetAclRequest.Read(ref r); break;
                    case 4: SetWatchesRequest.Read(ref r, true); break;
                    default: AuthPacket.Read(ref r); break;
                }
            }
            catch (JuteException) { }
        }
    }
}
