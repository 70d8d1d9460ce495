using System.Text;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tests.Fuzzing;

/// <summary>
/// Valid ZooKeeper-protocol frames (payloads without the length prefix) for the mutation fuzzer: one or more of each
/// request a client can send, with a few shapes of each where the shape matters (flags, watches, multi contents).
/// Their paths stay under /fuzz; the fuzz test's checker keeps its own znodes elsewhere, behind an ACL.
/// </summary>
public static class KeeperFuzzSeeds
{
    private static readonly List<Acl> Open = [.. Acl.OpenAclUnsafe];

    /// <summary>The first frame of a connection: the handshake.</summary>
    public static IReadOnlyList<byte[]> Connects() =>
    [
        Encode(w => new ConnectRequest(0, 0, 4000, 0, new byte[16], false, true).Write(w)),
        Encode(w => new ConnectRequest(0, 0, 30_000, 0, new byte[16], false, false).Write(w)),
        Encode(w => new ConnectRequest(0, 0, 10_000, 0, new byte[16], true, true).Write(w)),
        // A reconnect to a session that does not exist (and one that says it has seen the future).
        Encode(w => new ConnectRequest(0, 0, 4000, 0x1234_5678_9abc, new byte[16], false, true).Write(w)),
        Encode(w => new ConnectRequest(0, 1L << 40, 4000, 0, new byte[16], false, true).Write(w)),
    ];

    /// <summary>Four-letter words, which take a connection's first four bytes instead of a handshake.</summary>
    public static IReadOnlyList<byte[]> FourLetterWords() =>
        [.. new[] { "ruok", "srvr", "stat", "mntr", "conf", "cons", "envi", "wchs", "wchc", "wchp", "dump", "isro", "dirs" }
            .Select(Encoding.ASCII.GetBytes)];

    /// <summary>Requests: header (xid, opcode) and body.</summary>
    public static IReadOnlyList<byte[]> Requests()
    {
        var digest = new List<Acl> { new(Perms.All, new Id("digest", "fuzz:NrKjk4sXxWu4rSkhAwcxp6bzNdo=")) };
        var auth = new List<Acl> { new(Perms.Read | Perms.Write, new Id("auth", "")) };
        var ip = new List<Acl> { new(Perms.All, new Id("ip", "127.0.0.1")) };
        return
        [
            Request(1, OpCode.Create, new CreateRequest("/fuzz", "root"u8.ToArray(), Open, 0)),
            Request(2, OpCode.Create, new CreateRequest("/fuzz/a", [1, 2, 3], Open, (int)CreateMode.Ephemeral)),
            Request(3, OpCode.Create, new CreateRequest("/fuzz/seq-", [], Open, (int)CreateMode.PersistentSequential)),
            Request(4, OpCode.Create, new CreateRequest("/fuzz/eseq-", null, auth, (int)CreateMode.EphemeralSequential)),
            Request(5, OpCode.Create2, new CreateRequest("/fuzz/b", new byte[40], digest, 0)),
            Request(6, OpCode.CreateContainer, new CreateRequest("/fuzz/container", [], ip, (int)CreateMode.Container)),
            Encode(w =>
            {
                new RequestHeader(7, OpCode.CreateTtl).Write(w);
                new CreateRequest("/fuzz/ttl", [7], Open, (int)CreateMode.PersistentWithTtl, 60_000).Write(w, withTtl: true);
            }),
            Request(8, OpCode.Delete, new DeleteRequest("/fuzz/a", -1)),
            Request(9, OpCode.Delete, new DeleteRequest("/fuzz/b", 0)),
            Request(10, OpCode.SetData, new SetDataRequest("/fuzz", "changed"u8.ToArray(), -1)),
            Request(11, OpCode.SetData, new SetDataRequest("/fuzz/b", new byte[300], 3)),
            Request(12, OpCode.GetData, new PathWatchRequest("/fuzz", true)),
            Request(13, OpCode.Exists, new PathWatchRequest("/fuzz/a", true)),
            Request(14, OpCode.GetChildren, new PathWatchRequest("/fuzz", true)),
            Request(15, OpCode.GetChildren2, new PathWatchRequest("/", false)),
            Request(16, OpCode.GetAcl, new PathRequest("/fuzz/b")),
            Request(17, OpCode.SetAcl, new SetAclRequest("/fuzz", Open, -1)),
            Request(18, OpCode.SetAcl, new SetAclRequest("/fuzz/b", ip, 0)),
            Request(19, OpCode.Sync, new PathRequest("/fuzz")),
            Request(20, OpCode.Check, new CheckVersionRequest("/fuzz", 0)),
            Encode(w =>
            {
                new RequestHeader(21, OpCode.Multi).Write(w);
                new MultiHeader(OpCode.Create, false, (ErrorCode)(-1)).Write(w);
                new CreateRequest("/fuzz/m", [], Open, 0).Write(w);
                new MultiHeader(OpCode.SetData, false, (ErrorCode)(-1)).Write(w);
                new SetDataRequest("/fuzz/m", [1], -1).Write(w);
                new MultiHeader(OpCode.Check, false, (ErrorCode)(-1)).Write(w);
                new CheckVersionRequest("/fuzz/m", 1).Write(w);
                new MultiHeader(OpCode.Delete, false, (ErrorCode)(-1)).Write(w);
                new DeleteRequest("/fuzz/m", -1).Write(w);
                MultiHeader.End.Write(w);
            }),
            Encode(w =>
            {
                new RequestHeader(22, OpCode.Multi).Write(w);
                new MultiHeader(OpCode.Create2, false, (ErrorCode)(-1)).Write(w);
                new CreateRequest("/fuzz/m2-", [], Open, (int)CreateMode.EphemeralSequential).Write(w);
                MultiHeader.End.Write(w);
            }),
            Encode(w =>
            {
                new RequestHeader(23, OpCode.MultiRead).Write(w);
                new MultiHeader(OpCode.GetData, false, (ErrorCode)(-1)).Write(w);
                new PathWatchRequest("/fuzz", false).Write(w);
                new MultiHeader(OpCode.GetChildren, false, (ErrorCode)(-1)).Write(w);
                new PathWatchRequest("/", true).Write(w);
                MultiHeader.End.Write(w);
            }),
            Encode(w =>
            {
                new RequestHeader(Xids.SetWatches, OpCode.SetWatches).Write(w);
                new SetWatchesRequest(0, ["/fuzz"], ["/fuzz/a"], ["/fuzz"], [], []).Write(w, version2: false);
            }),
            Encode(w =>
            {
                new RequestHeader(Xids.SetWatches, OpCode.SetWatches2).Write(w);
                new SetWatchesRequest(1, ["/fuzz"], ["/nope"], ["/"], ["/fuzz"], ["/fuzz/b"]).Write(w, version2: true);
            }),
            Request(24, OpCode.AddWatch, new AddWatchRequest("/fuzz", AddWatchMode.PersistentRecursive)),
            Request(25, OpCode.CheckWatches, new WatchesRequest("/fuzz", WatcherType.Any)),
            Request(26, OpCode.RemoveWatches, new WatchesRequest("/fuzz", WatcherType.Data)),
            Request(Xids.Auth, OpCode.Auth, new AuthPacket(0, "digest", "fuzz:secret"u8.ToArray())),
            Request(Xids.Auth, OpCode.Auth, new AuthPacket(0, "ip", "127.0.0.1"u8.ToArray())),
            Request(27, OpCode.WhoAmI, null),
            Request(28, OpCode.GetEphemerals, new PathRequest("/fuzz")),
            Request(29, OpCode.GetAllChildrenNumber, new PathRequest("/")),
            Request(Xids.Ping, OpCode.Ping, null),
            Request(30, OpCode.Reconfig, null, w => { w.WriteString(""); w.WriteString(""); w.WriteString(""); w.WriteLong(-1); }),
            Request(32, OpCode.DeleteContainer, new DeleteRequest("/fuzz/container", -1)),
        ];
    }

    /// <summary>Requests after which Keeper ends the connection: a connection's last frame, now and then.</summary>
    public static IReadOnlyList<byte[]> Enders() =>
    [
        Request(33, OpCode.CloseSession, null),
        // No SASL in Keeper: it is an unknown request type, answered Unimplemented before the connection closes.
        Request(31, OpCode.Sasl, null, w => w.WriteBuffer("token"u8.ToArray())),
    ];

    private static byte[] Request(int xid, OpCode type, IJuteRecord? body, Action<JuteWriter>? raw = null) => Encode(w =>
    {
        new RequestHeader(xid, type).Write(w);
        body?.Write(w);
        raw?.Invoke(w);
    });

    private static byte[] Encode(Action<JuteWriter> write)
    {
        var w = new JuteWriter();
        write(w);
        return w.ToArray();
    }
}
