namespace Quill.Keeper.Protocol;

// The response bodies that follow a ReplyHeader when its error is Ok.

public sealed record CreateResponse(string Path) : IJuteRecord
{
    public static CreateResponse Read(ref JuteReader r) => new(r.ReadString() ?? "");
    public void Write(JuteWriter w) => w.WriteString(Path);
}

public sealed record Create2Response(string Path, Stat Stat) : IJuteRecord
{
    public static Create2Response Read(ref JuteReader r) => new(r.ReadString() ?? "", Stat.Read(ref r));
    public void Write(JuteWriter w) { w.WriteString(Path); Stat.Write(w); }
}

/// <summary>exists, setData and setACL answer with a Stat alone.</summary>
public sealed record StatResponse(Stat Stat) : IJuteRecord
{
    public static StatResponse Read(ref JuteReader r) => new(Stat.Read(ref r));
    public void Write(JuteWriter w) => Stat.Write(w);
}

public sealed record GetDataResponse(byte[]? Data, Stat Stat) : IJuteRecord
{
    public static GetDataResponse Read(ref JuteReader r) => new(r.ReadBuffer(), Stat.Read(ref r));
    public void Write(JuteWriter w) { w.WriteBuffer(Data); Stat.Write(w); }
}

public sealed record GetChildrenResponse(List<string> Children) : IJuteRecord
{
    public static GetChildrenResponse Read(ref JuteReader r) => new(r.ReadStringVector());
    public void Write(JuteWriter w) => w.WriteStringVector(Children);
}

public sealed record GetChildren2Response(List<string> Children, Stat Stat) : IJuteRecord
{
    public static GetChildren2Response Read(ref JuteReader r) => new(r.ReadStringVector(), Stat.Read(ref r));
    public void Write(JuteWriter w) { w.WriteStringVector(Children); Stat.Write(w); }
}

public sealed record GetAclResponse(List<Acl> Acl, Stat Stat) : IJuteRecord
{
    public static GetAclResponse Read(ref JuteReader r) => new(Protocol.Acl.ReadList(ref r), Stat.Read(ref r));
    public void Write(JuteWriter w) { Protocol.Acl.WriteList(w, Acl); Stat.Write(w); }
}

/// <summary>sync answers with the path it was given.</summary>
public sealed record PathResponse(string Path) : IJuteRecord
{
    public static PathResponse Read(ref JuteReader r) => new(r.ReadString() ?? "");
    public void Write(JuteWriter w) => w.WriteString(Path);
}

public sealed record GetAllChildrenNumberResponse(int TotalNumber) : IJuteRecord
{
    public static GetAllChildrenNumberResponse Read(ref JuteReader r) => new(r.ReadInt());
    public void Write(JuteWriter w) => w.WriteInt(TotalNumber);
}

public sealed record GetEphemeralsResponse(List<string> Ephemerals) : IJuteRecord
{
    public static GetEphemeralsResponse Read(ref JuteReader r) => new(r.ReadStringVector());
    public void Write(JuteWriter w) => w.WriteStringVector(Ephemerals);
}

public sealed record WhoAmIResponse(List<ClientInfo> ClientInfo) : IJuteRecord
{
    public static WhoAmIResponse Read(ref JuteReader r) => new(r.ReadVector(static (ref JuteReader x) => Protocol.ClientInfo.Read(ref x)));
    public void Write(JuteWriter w) => w.WriteVector(ClientInfo, static (x, c) => c.Write(x));
}

/// <summary>In a multi response, the body of an op that failed (or of every op, when the multi failed).</summary>
public sealed record ErrorResponse(ErrorCode Err) : IJuteRecord
{
    public static ErrorResponse Read(ref JuteReader r) => new((ErrorCode)r.ReadInt());
    public void Write(JuteWriter w) => w.WriteInt((int)Err);
}
