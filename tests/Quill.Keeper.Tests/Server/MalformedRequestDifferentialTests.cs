using Quill.Keeper.Protocol;
using Quill.Testing;

namespace Quill.Keeper.Tests.Server;

/// <summary>
/// The same malformed frames sent to Apache ZooKeeper 3.8 and to Keeper (both real processes): each server must
/// answer them alike, down to whether the connection survives. ZooKeeper answers a request whose body cannot be
/// read with MARSHALLINGERROR and keeps the connection; it closes it, unanswered, when the auth packet itself
/// cannot be read (that happens on its network thread, before any request exists).
/// </summary>
public sealed class MalformedRequestDifferentialTests(ApacheZooKeeperServer zk, KeeperProcessFixture keeper)
    : IClassFixture<ApacheZooKeeperServer>, IClassFixture<KeeperProcessFixture>
{
    private const string KeptOpen = "still open";
    private const string ClosedUnanswered = "closed unanswered";

    private static readonly Dictionary<string, (Action<JuteWriter> Frame, string Expected)> Cases = new()
    {
        ["getData with a string longer than the frame"] = (w =>
        {
            new RequestHeader(5, OpCode.GetData).Write(w);
            w.WriteInt(1000);
            w.WriteRaw("/x"u8);
        }, $"MarshallingError (xid 5), {KeptOpen}"),
        ["exists with no body"] = (w => new RequestHeader(5, OpCode.Exists).Write(w), $"MarshallingError (xid 5), {KeptOpen}"),
        ["create with a negative path length"] = (w =>
        {
            new RequestHeader(6, OpCode.Create).Write(w);
            w.WriteInt(-7);
        }, $"MarshallingError (xid 6), {KeptOpen}"),
        ["setData cut after the path"] = (w =>
        {
            new RequestHeader(6, OpCode.SetData).Write(w);
            w.WriteString("/");
        }, $"MarshallingError (xid 6), {KeptOpen}"),
        ["multi cut inside its second op header"] = (w =>
        {
            new RequestHeader(1, OpCode.Multi).Write(w);
            new MultiHeader(OpCode.Create, false, (ErrorCode)(-1)).Write(w);
            new CreateRequest("/phantom", [], [.. Acl.OpenAclUnsafe], 0).Write(w);
            w.WriteInt((int)OpCode.Create);
        }, $"MarshallingError (xid 1), {KeptOpen}"),
        ["setWatches cut inside its first list"] = (w =>
        {
            new RequestHeader(Xids.SetWatches, OpCode.SetWatches).Write(w);
            w.WriteLong(0);
            w.WriteInt(3);
            w.WriteString("/a");
        }, $"MarshallingError (xid -8), {KeptOpen}"),
        ["auth cut inside its data"] = (w =>
        {
            new RequestHeader(Xids.Auth, OpCode.Auth).Write(w);
            w.WriteInt(0);
            w.WriteString("digest");
            w.WriteInt(50);
        }, ClosedUnanswered),
        ["auth with a scheme longer than the frame"] = (w =>
        {
            new RequestHeader(Xids.Auth, OpCode.Auth).Write(w);
            w.WriteInt(0);
            w.WriteInt(999_999);
        }, ClosedUnanswered),
        ["auth with an unknown scheme"] = (w =>
        {
            new RequestHeader(Xids.Auth, OpCode.Auth).Write(w);
            new AuthPacket(0, "no-such-scheme", "x"u8.ToArray()).Write(w);
        }, "AuthFailed (xid -4), then closed"),
        ["auth under an xid other than -4"] = (w =>
        {
            new RequestHeader(5, OpCode.Auth).Write(w);
            new AuthPacket(0, "digest", "a:b"u8.ToArray()).Write(w);
        }, $"Ok (xid 5), {KeptOpen}"),
        ["auth with the ip scheme"] = (w =>
        {
            new RequestHeader(Xids.Auth, OpCode.Auth).Write(w);
            new AuthPacket(0, "ip", "10.1.2.3"u8.ToArray()).Write(w);
        }, $"Ok (xid -4), {KeptOpen}"),
        ["digest auth with null data"] = (w =>
        {
            new RequestHeader(Xids.Auth, OpCode.Auth).Write(w);
            w.WriteInt(0);
            w.WriteString("digest");
            w.WriteInt(-1);
        }, "AuthFailed (xid -4), then closed"),
        ["digest auth without a colon"] = (w =>
        {
            new RequestHeader(Xids.Auth, OpCode.Auth).Write(w);
            new AuthPacket(0, "digest", "nocolon"u8.ToArray()).Write(w);
        }, $"Ok (xid -4), {KeptOpen}"),
        ["unknown opcode"] = (w =>
        {
            new RequestHeader(9, (OpCode)77).Write(w);
            w.WriteString("/");
        }, "Unimplemented (xid 9), then closed"),
    };

    public static TheoryData<string> CaseNames() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task KeeperTreatsTheFrameAsZooKeeperDoes(string name)
    {
        var (frame, expected) = Cases[name];
        bool closes = expected.EndsWith("then closed", StringComparison.Ordinal);
        string zooKeeper = await OutcomeAsync(zk.Port, frame, closes);
        Assert.True(zooKeeper == expected, $"Apache ZooKeeper: {zooKeeper} (the test expects {expected})\n{zk.Diagnostics()}");
        string ours = await OutcomeAsync(keeper.Keeper.Port, frame, closes);
        Assert.True(ours == expected, $"Keeper: {ours}, Apache ZooKeeper: {zooKeeper}\n{keeper.Keeper.Diagnostics()}");
        // Whatever happened to that connection, a new one is served.
        Assert.Equal($"NoNode (xid 1), {KeptOpen}", await OutcomeAsync(keeper.Keeper.Port, w =>
        {
            new RequestHeader(1, OpCode.Exists).Write(w);
            new PathWatchRequest("/nothing-here", false).Write(w);
        }));
    }

    /// <summary>
    /// How the server answered the frame, and whether the connection still answers a ping afterwards. Where a close is
    /// expected (<paramref name="closes"/>), a ping answered first is not enough to call it open: Apache ZooKeeper may
    /// answer a ping sent right after its reply before the close takes effect, so the close is waited for (up to the
    /// client's 10 s read timeout).
    /// </summary>
    private static async Task<string> OutcomeAsync(int port, Action<JuteWriter> frame, bool closes = false)
    {
        var (c, _) = await RawZkClient.ConnectAsync(port);
        using (c)
        {
            c.SendFrame(frame);
            var reply = await c.ReadFrameAsync();
            if (reply is null) return ClosedUnanswered;
            var r = new JuteReader(reply);
            var header = ReplyHeader.Read(ref r);
            string after;
            try
            {
                c.SendRequest(OpCode.Ping, null, Xids.Ping);
                after = await c.ReadFrameAsync() is null || (closes && await ClosesAsync(c)) ? "then closed" : KeptOpen;
            }
            catch (IOException)
            {
                after = "then closed";
            }
            return $"{header.Err} (xid {header.Xid}), {after}";
        }
    }

    /// <summary>Whether the server closes the connection without sending anything more, before the read times out.</summary>
    private static async Task<bool> ClosesAsync(RawZkClient c)
    {
        try
        {
            return await c.ReadFrameAsync() is null;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
