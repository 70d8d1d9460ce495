using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tests.Server;

/// <summary>Mutated frames thrown at the decoders and at a live server: no crash, no hang, nothing lost.</summary>
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
    public void DecodersThrowOnlyJuteExceptionOnMutatedInput()
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

    [Fact]
    public async Task LiveServerSurvivesMutatedRequestsAndKeepsServing()
    {
        await using var keeper = await InProcessKeeper.StartAsync();
        var (good, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (good)
        {
            var (h, _) = await good.CallAsync(OpCode.Create, new CreateRequest("/fuzz", "v"u8.ToArray(), [.. Acl.OpenAclUnsafe], 0));
            Assert.Equal(ErrorCode.Ok, h.Err);
            var rng = new Random(7);
            var bodies = ValidBodies();
            OpCode[] types = [OpCode.Create, OpCode.SetData, OpCode.GetData, OpCode.SetAcl, OpCode.SetWatches2, OpCode.Auth, OpCode.Multi, OpCode.Exists, (OpCode)rng.Next()];
            for (int round = 0; round < 40; round++)
            {
                var (bad, _) = await RawZkClient.ConnectAsync(keeper.Port);
                using (bad)
                {
                    for (int i = 0; i < 25; i++)
                    {
                        var body = Mutate(rng, bodies[rng.Next(bodies.Length)]);
                        var type = types[rng.Next(types.Length)];
                        try { bad.SendFrame(w => { new RequestHeader(i + 1, type).Write(w); w.WriteRaw(body); }); }
                        catch (IOException) { break; } // the server closed this connection, as it may
                    }
                }
                // After every round the well-behaved client is still served, and its data is intact.
                var (ph, _) = await good.CallAsync(OpCode.Exists, new PathWatchRequest("/fuzz", false));
                Assert.Equal(ErrorCode.Ok, ph.Err);
            }
            var (gh, body2) = await good.CallAsync(OpCode.GetData, new PathWatchRequest("/fuzz", false));
            Assert.Equal(ErrorCode.Ok, gh.Err);
        }
    }
}
