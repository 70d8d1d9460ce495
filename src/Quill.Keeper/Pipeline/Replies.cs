using Quill.Keeper.Protocol;

namespace Quill.Keeper.Pipeline;

/// <summary>Answers built in a reusable writer: the span returned is valid until the writer's next use.</summary>
internal static class Replies
{
    public static ReadOnlySpan<byte> Write(JuteWriter w, int xid, long zxid, ErrorCode err, IJuteRecord? body)
    {
        w.Clear();
        w.BeginFrame();
        new ReplyHeader(xid, zxid, err).Write(w);
        body?.Write(w);
        w.EndFrame();
        return w.WrittenSpan;
    }

    /// <summary>As above for a body that is a struct (a Stat, data and stat): no record object per answer.</summary>
    public static ReadOnlySpan<byte> Write<T>(JuteWriter w, int xid, long zxid, ErrorCode err, T body) where T : struct, IJuteRecord
    {
        w.Clear();
        w.BeginFrame();
        new ReplyHeader(xid, zxid, err).Write(w);
        body.Write(w);
        w.EndFrame();
        return w.WrittenSpan;
    }

    public static void Connect(JuteWriter w, ConnectRequest connect, int timeout, long sessionId, byte[] password, bool readOnly = false)
    {
        w.Clear();
        w.BeginFrame();
        new ConnectResponse(0, timeout, sessionId, password, readOnly, connect.HasReadOnlyFlag).Write(w);
        w.EndFrame();
    }
}
