using Quill.Keeper.Pipeline;
using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Tree;

namespace Quill.Keeper.Tests.Pipeline;

/// <summary>An in-memory connection: keeps every frame the pipeline sends it, in order.</summary>
internal sealed class TestChannel : IClientChannel
{
    private readonly List<byte[]> _frames = [];

    public string RemoteIp => "127.0.0.1";
    public string RemoteAddress => "127.0.0.1:1";
    public bool IsClosed { get; private set; }
    public Session? Session { get; set; }
    public List<Id> AuthIds { get; } = [];
    public long PacketsReceived { get; set; }
    public long PacketsSent { get; set; }
    public int RequestsDone;

    public List<byte[]> Frames
    {
        get { lock (_frames) return [.. _frames]; }
    }

    public void Send(ReadOnlySpan<byte> frame)
    {
        lock (_frames) _frames.Add(frame[4..].ToArray()); // without the length prefix
    }

    public bool SendDeferred(ReadOnlySpan<byte> frame)
    {
        Send(frame);
        return false;
    }

    public void Flush() { }
    public void Close() => IsClosed = true;
    public void RequestDone() => Interlocked.Increment(ref RequestsDone);

    public void Process(WatcherEvent e)
    {
        var w = new JuteWriter();
        w.BeginFrame();
        new ReplyHeader(Xids.Notification, -1, ErrorCode.Ok).Write(w);
        e.Write(w);
        w.EndFrame();
        Send(w.WrittenSpan);
    }

    /// <summary>The reply headers (and bodies) of the frames after the handshake's answer.</summary>
    public List<(ReplyHeader Header, byte[] Body)> Replies() => Frames.Skip(1).Select(f =>
    {
        var r = new JuteReader(f);
        var header = ReplyHeader.Read(ref r);
        return (header, f[r.Position..]);
    }).ToList();
}
