using Quill.Keeper.Protocol;
using Quill.Keeper.Tree;

namespace Quill.Keeper.Storage.ZooKeeperImport;

/// <summary>
/// A txn from ZooKeeper's log, decoded from the records of zookeeper.jute's txn module (CreateTxn, CreateTTLTxn,
/// CreateContainerTxn, DeleteTxn, SetDataTxn, SetACLTxn, CheckVersionTxn, ErrorTxn, MultiTxn, CreateSessionTxn,
/// CloseSessionTxn). Anything after the record (3.6+ appends a TxnDigest) is not read.
/// </summary>
public abstract record ZooKeeperTxn
{
    /// <summary>Every kind of create. <see cref="Ephemeral"/>: owned by the txn's session; else the owner is <see cref="EphemeralOwner"/> (0, container, TTL).</summary>
    public sealed record Create(string Path, byte[]? Data, IReadOnlyList<Acl> Acl, bool Ephemeral, long EphemeralOwner, int ParentCversion) : ZooKeeperTxn;
    public sealed record Delete(string Path) : ZooKeeperTxn;
    public sealed record SetData(string Path, byte[]? Data, int Version) : ZooKeeperTxn;
    public sealed record SetAcl(string Path, IReadOnlyList<Acl> Acl, int Version) : ZooKeeperTxn;
    public sealed record Check(string Path, int Version) : ZooKeeperTxn;
    public sealed record Error(int Code) : ZooKeeperTxn;
    public sealed record Multi(IReadOnlyList<ZooKeeperTxn> Ops) : ZooKeeperTxn;
    public sealed record CreateSession(int Timeout) : ZooKeeperTxn;
    /// <summary>3.6+ lists the ephemerals the close deletes; older logs have no body.</summary>
    public sealed record CloseSession(IReadOnlyList<string> PathsToDelete) : ZooKeeperTxn;

    /// <summary>Decodes the record that follows a TxnHeader of the given type (ZooDefs.OpCode numbering).</summary>
    public static ZooKeeperTxn Read(int type, ReadOnlySpan<byte> body)
    {
        var r = new JuteReader(body);
        switch ((OpCode)type)
        {
            case OpCode.Create:
                // A create from before 3.3 has no parentCVersion: ZooKeeper reads it as CreateTxnV0 with -1.
                try
                {
                    return ReadRecord(type, ref r);
                }
                catch (JuteException)
                {
                    var v0 = new JuteReader(body);
                    return new Create(PathOf(ref v0), v0.ReadBuffer(), Acl.ReadList(ref v0), v0.ReadBool(), 0, -1);
                }
            case OpCode.CloseSession:
                return r.Remaining >= 4 ? new CloseSession(r.ReadStringVector()) : new CloseSession([]);
            default:
                return ReadRecord(type, ref r);
        }
    }

    private static ZooKeeperTxn ReadRecord(int type, ref JuteReader r)
    {
        switch ((OpCode)type)
        {
            case OpCode.Create or OpCode.Create2:
                return new Create(PathOf(ref r), r.ReadBuffer(), Acl.ReadList(ref r), r.ReadBool(), 0, r.ReadInt());
            case OpCode.CreateContainer:
                return new Create(PathOf(ref r), r.ReadBuffer(), Acl.ReadList(ref r), false, EphemeralType.ContainerOwner, r.ReadInt());
            case OpCode.CreateTtl:
            {
                string path = PathOf(ref r);
                var data = r.ReadBuffer();
                var acl = Acl.ReadList(ref r);
                int parentCversion = r.ReadInt();
                return new Create(path, data, acl, false, EphemeralType.TtlOwner(r.ReadLong()), parentCversion);
            }
            case OpCode.Delete or OpCode.DeleteContainer:
                return new Delete(PathOf(ref r));
            // A reconfig is logged as the new content of /zookeeper/config.
            case OpCode.SetData or OpCode.Reconfig:
                return new SetData(PathOf(ref r), r.ReadBuffer(), r.ReadInt());
            case OpCode.SetAcl:
                return new SetAcl(PathOf(ref r), Acl.ReadList(ref r), r.ReadInt());
            case OpCode.Check:
                return new Check(PathOf(ref r), r.ReadInt());
            case OpCode.Error:
                return new Error(r.ReadInt());
            case OpCode.CreateSession:
                return new CreateSession(r.ReadInt());
            case OpCode.Multi:
            {
                int count = r.ReadInt();
                if (count < 0 || count > r.Remaining) throw new JuteException($"multi with {count} ops");
                var ops = new List<ZooKeeperTxn>(count);
                for (int i = 0; i < count; i++)
                {
                    int opType = r.ReadInt();
                    var opBody = r.ReadBuffer() ?? [];
                    var op = new JuteReader(opBody);
                    ops.Add(ReadRecord(opType, ref op));
                }
                return new Multi(ops);
            }
            default:
                throw new JuteException($"unknown txn type {type}");
        }
    }

    private static string PathOf(ref JuteReader r) => r.ReadString() ?? throw new JuteException("null path");
}
