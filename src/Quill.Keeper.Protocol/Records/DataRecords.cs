namespace Quill.Keeper.Protocol;

/// <summary>An identity in an ACL: scheme ("world", "auth", "digest", "ip", "super") and id.</summary>
public readonly record struct Id(string Scheme, string Ident) : IJuteRecord
{
    public static readonly Id Anyone = new("world", "anyone");
    public static readonly Id AuthIds = new("auth", "");

    public static Id Read(ref JuteReader r) => new(r.ReadString() ?? "", r.ReadString() ?? "");
    public void Write(JuteWriter w) { w.WriteString(Scheme); w.WriteString(Ident); }
    public override string ToString() => $"{Scheme}:{Ident}";
}

public readonly record struct Acl(Perms Perms, Id Id) : IJuteRecord
{
    public static readonly IReadOnlyList<Acl> OpenAclUnsafe = [new(Perms.All, Id.Anyone)];
    public static readonly IReadOnlyList<Acl> CreatorAllAcl = [new(Perms.All, Id.AuthIds)];
    public static readonly IReadOnlyList<Acl> ReadAclUnsafe = [new(Perms.Read, Id.Anyone)];

    public static Acl Read(ref JuteReader r) => new((Perms)r.ReadInt(), Id.Read(ref r));
    public void Write(JuteWriter w) { w.WriteInt((int)Perms); Id.Write(w); }

    public static List<Acl> ReadList(ref JuteReader r) => r.ReadVector(static (ref JuteReader x) => Read(ref x));
    public static void WriteList(JuteWriter w, IReadOnlyCollection<Acl>? acl) => w.WriteVector(acl, static (x, a) => a.Write(x));
}

/// <summary>A znode's metadata, as every response that carries one encodes it.</summary>
public readonly record struct Stat(
    long Czxid, long Mzxid, long Ctime, long Mtime, int Version, int Cversion, int Aversion,
    long EphemeralOwner, int DataLength, int NumChildren, long Pzxid) : IJuteRecord
{
    public static Stat Read(ref JuteReader r) => new(
        r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadInt(), r.ReadInt(), r.ReadInt(),
        r.ReadLong(), r.ReadInt(), r.ReadInt(), r.ReadLong());

    public void Write(JuteWriter w)
    {
        w.WriteLong(Czxid); w.WriteLong(Mzxid); w.WriteLong(Ctime); w.WriteLong(Mtime);
        w.WriteInt(Version); w.WriteInt(Cversion); w.WriteInt(Aversion);
        w.WriteLong(EphemeralOwner); w.WriteInt(DataLength); w.WriteInt(NumChildren); w.WriteLong(Pzxid);
    }
}

/// <summary>One entry of whoAmI's answer.</summary>
public readonly record struct ClientInfo(string AuthScheme, string User) : IJuteRecord
{
    public static ClientInfo Read(ref JuteReader r) => new(r.ReadString() ?? "", r.ReadString() ?? "");
    public void Write(JuteWriter w) { w.WriteString(AuthScheme); w.WriteString(User); }
}
