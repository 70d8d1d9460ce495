namespace Quill.Keeper.Protocol;

// The request bodies that follow a RequestHeader, one record per jute class.

/// <summary>create, create2, createContainer and createTTL share this shape; Ttl is only on the wire for createTTL.</summary>
public sealed record CreateRequest(string Path, byte[]? Data, List<Acl> Acl, int Flags, long Ttl = -1) : IJuteRecord
{
    public static CreateRequest Read(ref JuteReader r, bool withTtl)
    {
        var path = r.ReadString() ?? "";
        var data = r.ReadBuffer();
        var acl = Protocol.Acl.ReadList(ref r);
        int flags = r.ReadInt();
        long ttl = withTtl ? r.ReadLong() : -1;
        return new CreateRequest(path, data, acl, flags, ttl);
    }

    public void Write(JuteWriter w) => Write(w, Ttl >= 0);

    public void Write(JuteWriter w, bool withTtl)
    {
        w.WriteString(Path); w.WriteBuffer(Data); Protocol.Acl.WriteList(w, Acl); w.WriteInt(Flags);
        if (withTtl) w.WriteLong(Ttl);
    }
}

public sealed record DeleteRequest(string Path, int Version) : IJuteRecord
{
    public static DeleteRequest Read(ref JuteReader r) => new(r.ReadString() ?? "", r.ReadInt());
    public void Write(JuteWriter w) { w.WriteString(Path); w.WriteInt(Version); }
}

/// <summary>exists, getData, getChildren and getChildren2 all send a path and a watch flag.</summary>
public sealed record PathWatchRequest(string Path, bool Watch) : IJuteRecord
{
    public static PathWatchRequest Read(ref JuteReader r) => new(r.ReadString() ?? "", r.ReadBool());
    public void Write(JuteWriter w) { w.WriteString(Path); w.WriteBool(Watch); }
}

/// <summary>sync, getACL, getAllChildrenNumber and getEphemerals send only a path.</summary>
public sealed record PathRequest(string Path) : IJuteRecord
{
    public static PathRequest Read(ref JuteReader r) => new(r.ReadString() ?? "");
    public void Write(JuteWriter w) => w.WriteString(Path);
}

public sealed record SetDataRequest(string Path, byte[]? Data, int Version) : IJuteRecord
{
    public static SetDataRequest Read(ref JuteReader r) => new(r.ReadString() ?? "", r.ReadBuffer(), r.ReadInt());
    public void Write(JuteWriter w) { w.WriteString(Path); w.WriteBuffer(Data); w.WriteInt(Version); }
}

public sealed record SetAclRequest(string Path, List<Acl> Acl, int Version) : IJuteRecord
{
    public static SetAclRequest Read(ref JuteReader r) => new(r.ReadString() ?? "", Protocol.Acl.ReadList(ref r), r.ReadInt());
    public void Write(JuteWriter w) { w.WriteString(Path); Protocol.Acl.WriteList(w, Acl); w.WriteInt(Version); }
}

public sealed record CheckVersionRequest(string Path, int Version) : IJuteRecord
{
    public static CheckVersionRequest Read(ref JuteReader r) => new(r.ReadString() ?? "", r.ReadInt());
    public void Write(JuteWriter w) { w.WriteString(Path); w.WriteInt(Version); }
}

/// <summary>setWatches (v1) has no persistent lists; setWatches2 adds them.</summary>
public sealed record SetWatchesRequest(
    long RelativeZxid, List<string> DataWatches, List<string> ExistWatches, List<string> ChildWatches,
    List<string> PersistentWatches, List<string> PersistentRecursiveWatches) : IJuteRecord
{
    public static SetWatchesRequest Read(ref JuteReader r, bool version2)
    {
        long zxid = r.ReadLong();
        var data = r.ReadStringVector();
        var exist = r.ReadStringVector();
        var child = r.ReadStringVector();
        var persistent = version2 ? r.ReadStringVector() : [];
        var recursive = version2 ? r.ReadStringVector() : [];
        return new SetWatchesRequest(zxid, data, exist, child, persistent, recursive);
    }

    public bool IsVersion2 => PersistentWatches.Count > 0 || PersistentRecursiveWatches.Count > 0;

    public void Write(JuteWriter w) => Write(w, IsVersion2);

    public void Write(JuteWriter w, bool version2)
    {
        w.WriteLong(RelativeZxid);
        w.WriteStringVector(DataWatches); w.WriteStringVector(ExistWatches); w.WriteStringVector(ChildWatches);
        if (version2) { w.WriteStringVector(PersistentWatches); w.WriteStringVector(PersistentRecursiveWatches); }
    }
}

public sealed record AddWatchRequest(string Path, AddWatchMode Mode) : IJuteRecord
{
    public static AddWatchRequest Read(ref JuteReader r) => new(r.ReadString() ?? "", (AddWatchMode)r.ReadInt());
    public void Write(JuteWriter w) { w.WriteString(Path); w.WriteInt((int)Mode); }
}

/// <summary>removeWatches and checkWatches: a path and the kind of watch.</summary>
public sealed record WatchesRequest(string Path, WatcherType Type) : IJuteRecord
{
    public static WatchesRequest Read(ref JuteReader r) => new(r.ReadString() ?? "", (WatcherType)r.ReadInt());
    public void Write(JuteWriter w) { w.WriteString(Path); w.WriteInt((int)Type); }
}

/// <summary>reconfig: joining and leaving servers (incremental) or the new members, and the config version expected (-1: any).</summary>
public sealed record ReconfigRequest(string? JoiningServers, string? LeavingServers, string? NewMembers, long CurConfigId) : IJuteRecord
{
    public static ReconfigRequest Read(ref JuteReader r) => new(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadLong());
    public void Write(JuteWriter w) { w.WriteString(JoiningServers); w.WriteString(LeavingServers); w.WriteString(NewMembers); w.WriteLong(CurConfigId); }
}
