using Quill.Keeper.Protocol;

namespace Quill.Keeper.Txns;

/// <summary>
/// A state change the request processor decided on: what goes into the transaction log and what the data tree
/// applies. Validation happens before a txn exists, so applying one cannot fail (except inside a multi that was
/// recorded as failed, which applies nothing). Encoded with jute; the type travels in the log entry.
/// </summary>
public abstract record Txn
{
    public abstract OpCode Type { get; }
    public abstract void Write(JuteWriter w);

    public byte[] Encode()
    {
        var w = new JuteWriter();
        Write(w);
        return w.ToArray();
    }

    public static Txn Decode(OpCode type, ReadOnlySpan<byte> body)
    {
        var r = new JuteReader(body);
        return Read(type, ref r);
    }

    public static Txn Read(OpCode type, ref JuteReader r) => type switch
    {
        OpCode.Create => new CreateTxn(r.ReadString()!, r.ReadBuffer(), Acl.ReadList(ref r), r.ReadLong(), r.ReadInt()),
        OpCode.Delete => new DeleteTxn(r.ReadString()!),
        OpCode.SetData => new SetDataTxn(r.ReadString()!, r.ReadBuffer(), r.ReadInt()),
        OpCode.SetAcl => new SetAclTxn(r.ReadString()!, Acl.ReadList(ref r), r.ReadInt()),
        OpCode.Check => new CheckTxn(r.ReadString()!, r.ReadInt()),
        OpCode.Error => new ErrorTxn((ErrorCode)r.ReadInt()),
        OpCode.Multi => new MultiTxn(ReadMulti(ref r)),
        OpCode.CreateSession => new CreateSessionTxn(r.ReadInt()),
        OpCode.CloseSession => new CloseSessionTxn(),
        OpCode.Reconfig => new ReconfigTxn(r.ReadBuffer() ?? []),
        _ => throw new JuteException($"unknown txn type {type}"),
    };

    private static List<Txn> ReadMulti(ref JuteReader r)
    {
        int count = r.ReadInt();
        var list = new List<Txn>(Math.Max(0, count));
        for (int i = 0; i < count; i++)
        {
            var type = (OpCode)r.ReadInt();
            list.Add(Read(type, ref r));
        }
        return list;
    }
}

/// <summary>Every kind of create. EphemeralOwner carries the session, or the container/TTL encoding.</summary>
public sealed record CreateTxn(string Path, byte[]? Data, IReadOnlyList<Acl> Acl, long EphemeralOwner, int ParentCversion) : Txn
{
    public override OpCode Type => OpCode.Create;
    public override void Write(JuteWriter w)
    {
        w.WriteString(Path); w.WriteBuffer(Data); Protocol.Acl.WriteList(w, Acl); w.WriteLong(EphemeralOwner); w.WriteInt(ParentCversion);
    }
}

public sealed record DeleteTxn(string Path) : Txn
{
    public override OpCode Type => OpCode.Delete;
    public override void Write(JuteWriter w) => w.WriteString(Path);
}

public sealed record SetDataTxn(string Path, byte[]? Data, int Version) : Txn
{
    public override OpCode Type => OpCode.SetData;
    public override void Write(JuteWriter w) { w.WriteString(Path); w.WriteBuffer(Data); w.WriteInt(Version); }
}

public sealed record SetAclTxn(string Path, IReadOnlyList<Acl> Acl, int Version) : Txn
{
    public override OpCode Type => OpCode.SetAcl;
    public override void Write(JuteWriter w) { w.WriteString(Path); Protocol.Acl.WriteList(w, Acl); w.WriteInt(Version); }
}

/// <summary>A version check inside a multi: nothing to apply, but it keeps the op's place in the results.</summary>
public sealed record CheckTxn(string Path, int Version) : Txn
{
    public override OpCode Type => OpCode.Check;
    public override void Write(JuteWriter w) { w.WriteString(Path); w.WriteInt(Version); }
}

/// <summary>An op of a failed multi: its error (or Ok / RuntimeInconsistency for the ops around the failing one).</summary>
public sealed record ErrorTxn(ErrorCode Err) : Txn
{
    public override OpCode Type => OpCode.Error;
    public override void Write(JuteWriter w) => w.WriteInt((int)Err);
}

public sealed record MultiTxn(IReadOnlyList<Txn> Txns) : Txn
{
    public override OpCode Type => OpCode.Multi;
    public bool Failed => Txns.Any(t => t is ErrorTxn);
    public override void Write(JuteWriter w)
    {
        w.WriteInt(Txns.Count);
        foreach (var t in Txns) { w.WriteInt((int)t.Type); t.Write(w); }
    }
}

public sealed record CreateSessionTxn(int Timeout) : Txn
{
    public override OpCode Type => OpCode.CreateSession;
    public override void Write(JuteWriter w) => w.WriteInt(Timeout);
}

public sealed record CloseSessionTxn : Txn
{
    public override OpCode Type => OpCode.CloseSession;
    public override void Write(JuteWriter w) { }
}

/// <summary>
/// A new membership: as in ZooKeeper, the new content of /zookeeper/config (server lines and version=&lt;hex zxid&gt;),
/// written with data version -1.
/// </summary>
public sealed record ReconfigTxn(byte[] Config) : Txn
{
    public override OpCode Type => OpCode.Reconfig;
    public override void Write(JuteWriter w) => w.WriteBuffer(Config);
}
