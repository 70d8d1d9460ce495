using Quill.Keeper.Pipeline;
using Quill.Keeper.Protocol;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Quorum;

/// <summary>
/// A txn as the leader proposes it: its log header and body. A follower logs it (<see cref="ILoggedTxn"/>) and, once
/// committed, applies it. A proposal without a txn is a marker that travels through the follower's log stage in
/// order (the NEWLEADER acknowledgement waits for everything before it to be on disk).
/// </summary>
public sealed class Proposal(long zxid, long sessionId, int cxid, long time, Txn? txn, ReadOnlyMemory<byte>? encodedTxn = null) : ILoggedTxn
{
    /// <summary>The body as received: the follower logs these bytes rather than encoding the txn again.</summary>
    public ReadOnlyMemory<byte>? EncodedTxn { get; } = encodedTxn;
    public long Zxid { get; } = zxid;
    public long SessionId { get; } = sessionId;
    public int Cxid { get; } = cxid;
    public long Time { get; } = time;
    public Txn? Txn { get; } = txn;

    /// <summary>PROPOSAL data: session id, cxid, time, txn type, txn body (the zxid travels in the packet).</summary>
    public static byte[] Encode(long sessionId, int cxid, long time, int type, ReadOnlySpan<byte> body)
    {
        var w = new JuteWriter(32 + body.Length);
        w.WriteLong(sessionId); w.WriteInt(cxid); w.WriteLong(time); w.WriteInt(type); w.WriteBuffer(body);
        return w.ToArray();
    }

    public static Proposal Decode(long zxid, byte[] data)
    {
        var r = new JuteReader(data);
        long session = r.ReadLong();
        int cxid = r.ReadInt();
        long time = r.ReadLong();
        var type = (OpCode)r.ReadInt();
        var body = r.ReadBuffer() ?? [];
        return new Proposal(zxid, session, cxid, time, Txn.Decode(type, body), body);
    }
}

/// <summary>A learner's REQUEST: a client's write with what the leader needs to check it.</summary>
public sealed record ForwardedRequest(long SessionId, int Cxid, OpCode Type, byte[] Body, IReadOnlyList<Id> Auth)
{
    public byte[] Encode()
    {
        var w = new JuteWriter(32 + Body.Length);
        w.WriteLong(SessionId); w.WriteInt(Cxid); w.WriteInt((int)Type); w.WriteBuffer(Body);
        w.WriteInt(Auth.Count);
        foreach (var id in Auth) { w.WriteString(id.Scheme); w.WriteString(id.Ident); }
        return w.ToArray();
    }

    public static ForwardedRequest Decode(byte[] data)
    {
        var r = new JuteReader(data);
        long session = r.ReadLong();
        int cxid = r.ReadInt();
        var type = (OpCode)r.ReadInt();
        var body = r.ReadBuffer() ?? [];
        int count = r.ReadInt();
        if (count < 0 || count > 1024) throw new JuteException($"forwarded request with {count} identities");
        var auth = new List<Id>(count);
        for (int i = 0; i < count; i++) auth.Add(new Id(r.ReadString() ?? "", r.ReadString() ?? ""));
        return new ForwardedRequest(session, cxid, type, body, auth);
    }
}

/// <summary>
/// The leader's ANSWER to the learner that forwarded a write it refused (or a sync): the error, and for a multi that
/// failed its per-op results. The learner answers its client once everything before it in the stream is applied.
/// </summary>
public sealed record ForwardedAnswer(long SessionId, int Cxid, ErrorCode Error, MultiTxn? FailedMulti)
{
    public byte[] Encode()
    {
        var w = new JuteWriter(32);
        w.WriteLong(SessionId); w.WriteInt(Cxid); w.WriteInt((int)Error);
        w.WriteBool(FailedMulti is not null);
        FailedMulti?.Write(w);
        return w.ToArray();
    }

    public static ForwardedAnswer Decode(byte[] data)
    {
        var r = new JuteReader(data);
        long session = r.ReadLong();
        int cxid = r.ReadInt();
        var err = (ErrorCode)r.ReadInt();
        var multi = r.ReadBool() ? (MultiTxn)Txn.Read(OpCode.Multi, ref r) : null;
        return new ForwardedAnswer(session, cxid, err, multi);
    }
}

/// <summary>A learner's PING data: the sessions its clients kept alive since the last one, with their timeouts.</summary>
public static class SessionTouches
{
    public static byte[] Encode(List<(long Id, int TimeoutMs)> touched)
    {
        var w = new JuteWriter(4 + touched.Count * 12);
        w.WriteInt(touched.Count);
        foreach (var (id, timeout) in touched) { w.WriteLong(id); w.WriteInt(timeout); }
        return w.ToArray();
    }

    public static List<(long Id, int TimeoutMs)> Decode(byte[] data)
    {
        var list = new List<(long, int)>();
        if (data.Length == 0) return list;
        var r = new JuteReader(data);
        int count = r.ReadInt();
        for (int i = 0; i < count; i++) list.Add((r.ReadLong(), r.ReadInt()));
        return list;
    }
}
