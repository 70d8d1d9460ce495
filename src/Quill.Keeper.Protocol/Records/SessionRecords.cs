namespace Quill.Keeper.Protocol;

/// <summary>
/// The first packet of a connection. The 3.8 Java client appends a readOnly byte; older and other clients
/// (node-zookeeper-client) stop after the password, so <see cref="HasReadOnlyFlag"/> remembers which it was:
/// the answer carries the byte back only when the request had it.
/// </summary>
public sealed record ConnectRequest(int ProtocolVersion, long LastZxidSeen, int Timeout, long SessionId, byte[] Password, bool ReadOnly, bool HasReadOnlyFlag) : IJuteRecord
{
    public static ConnectRequest Read(ref JuteReader r)
    {
        int version = r.ReadInt();
        long lastZxid = r.ReadLong();
        int timeout = r.ReadInt();
        long sessionId = r.ReadLong();
        byte[] password = r.ReadBuffer() ?? [];
        bool hasFlag = !r.AtEnd;
        bool readOnly = hasFlag && r.ReadBool();
        return new ConnectRequest(version, lastZxid, timeout, sessionId, password, readOnly, hasFlag);
    }

    public void Write(JuteWriter w)
    {
        w.WriteInt(ProtocolVersion); w.WriteLong(LastZxidSeen); w.WriteInt(Timeout); w.WriteLong(SessionId);
        w.WriteBuffer(Password);
        if (HasReadOnlyFlag) w.WriteBool(ReadOnly);
    }
}

public sealed record ConnectResponse(int ProtocolVersion, int Timeout, long SessionId, byte[] Password, bool ReadOnly, bool HasReadOnlyFlag) : IJuteRecord
{
    public static ConnectResponse Read(ref JuteReader r)
    {
        int version = r.ReadInt();
        int timeout = r.ReadInt();
        long sessionId = r.ReadLong();
        byte[] password = r.ReadBuffer() ?? [];
        bool hasFlag = !r.AtEnd;
        bool readOnly = hasFlag && r.ReadBool();
        return new ConnectResponse(version, timeout, sessionId, password, readOnly, hasFlag);
    }

    public void Write(JuteWriter w)
    {
        w.WriteInt(ProtocolVersion); w.WriteInt(Timeout); w.WriteLong(SessionId); w.WriteBuffer(Password);
        if (HasReadOnlyFlag) w.WriteBool(ReadOnly);
    }
}

public readonly record struct RequestHeader(int Xid, OpCode Type) : IJuteRecord
{
    public static RequestHeader Read(ref JuteReader r) => new(r.ReadInt(), (OpCode)r.ReadInt());
    public void Write(JuteWriter w) { w.WriteInt(Xid); w.WriteInt((int)Type); }
}

public readonly record struct ReplyHeader(int Xid, long Zxid, ErrorCode Err) : IJuteRecord
{
    public static ReplyHeader Read(ref JuteReader r) => new(r.ReadInt(), r.ReadLong(), (ErrorCode)r.ReadInt());
    public void Write(JuteWriter w) { w.WriteInt(Xid); w.WriteLong(Zxid); w.WriteInt((int)Err); }
}

/// <summary>Separates the ops of a multi request and response; Type -1 with Done=true ends the list.</summary>
public readonly record struct MultiHeader(OpCode Type, bool Done, ErrorCode Err) : IJuteRecord
{
    public static readonly MultiHeader End = new(OpCode.Error, true, (ErrorCode)(-1));
    public static MultiHeader Read(ref JuteReader r) => new((OpCode)r.ReadInt(), r.ReadBool(), (ErrorCode)r.ReadInt());
    public void Write(JuteWriter w) { w.WriteInt((int)Type); w.WriteBool(Done); w.WriteInt((int)Err); }
}

public sealed record WatcherEvent(EventType Type, KeeperState State, string Path) : IJuteRecord
{
    public static WatcherEvent Read(ref JuteReader r) => new((EventType)r.ReadInt(), (KeeperState)r.ReadInt(), r.ReadString() ?? "");
    public void Write(JuteWriter w) { w.WriteInt((int)Type); w.WriteInt((int)State); w.WriteString(Path); }
}

public sealed record AuthPacket(int Type, string Scheme, byte[] Auth) : IJuteRecord
{
    public static AuthPacket Read(ref JuteReader r) => new(r.ReadInt(), r.ReadString() ?? "", r.ReadBuffer() ?? []);
    public void Write(JuteWriter w) { w.WriteInt(Type); w.WriteString(Scheme); w.WriteBuffer(Auth); }
}
