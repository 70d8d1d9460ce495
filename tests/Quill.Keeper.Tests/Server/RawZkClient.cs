using System.Buffers.Binary;
using System.Net.Sockets;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tests.Server;

/// <summary>
/// Speaks the ZooKeeper wire protocol byte by byte, for tests of wire details that real clients never send
/// (malformed frames, pipelined handshakes, odd lengths). Behaviour that real clients exercise is tested with real
/// clients in Quill.Compat.Tests.
/// </summary>
public sealed class RawZkClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private int _xid;

    private RawZkClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _stream.ReadTimeout = 10_000;
    }

    public static RawZkClient Open(int port) => new(new TcpClient("127.0.0.1", port));

    /// <summary>Opens a session; it sends no pings, so the default timeout is long (the server may clamp it).</summary>
    public static async Task<(RawZkClient Client, ConnectResponse Response)> ConnectAsync(int port, int timeout = 30_000)
    {
        var c = Open(port);
        c.SendFrame(w => new ConnectRequest(0, 0, timeout, 0, new byte[16], false, true).Write(w));
        var frame = await c.ReadFrameAsync() ?? throw new IOException("closed during handshake");
        var r = new JuteReader(frame);
        return (c, ConnectResponse.Read(ref r));
    }

    public void SendRaw(ReadOnlySpan<byte> bytes) => _stream.Write(bytes);

    public void SendFrame(Action<JuteWriter> body)
    {
        var w = new JuteWriter();
        w.BeginFrame();
        body(w);
        w.EndFrame();
        _stream.Write(w.WrittenSpan);
    }

    public int SendRequest(OpCode type, IJuteRecord? body, int? xid = null)
    {
        int id = xid ?? ++_xid;
        SendFrame(w => { new RequestHeader(id, type).Write(w); body?.Write(w); });
        return id;
    }

    /// <summary>The next frame, or null when the server closed the connection.</summary>
    public async Task<byte[]?> ReadFrameAsync()
    {
        var prefix = new byte[4];
        if (!await ReadExactlyAsync(prefix)) return null;
        int length = BinaryPrimitives.ReadInt32BigEndian(prefix);
        var frame = new byte[length];
        if (!await ReadExactlyAsync(frame)) return null;
        return frame;
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int read = 0;
        while (read < buffer.Length)
        {
            int n;
            try { n = await _stream.ReadAsync(buffer.AsMemory(read), cts.Token); }
            catch (IOException) { return false; }
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    /// <summary>Reads frames until the reply to <paramref name="xid"/>; notifications before it are collected.</summary>
    public async Task<(ReplyHeader Header, byte[] Body, List<WatcherEvent> Events)> ReadReplyAsync(int xid)
    {
        var events = new List<WatcherEvent>();
        while (true)
        {
            var frame = await ReadFrameAsync() ?? throw new IOException($"connection closed before the reply to xid {xid}");
            var r = new JuteReader(frame);
            var header = ReplyHeader.Read(ref r);
            var body = frame[r.Position..];
            if (header.Xid == Xids.Notification)
            {
                var er = new JuteReader(body);
                events.Add(WatcherEvent.Read(ref er));
                continue;
            }
            if (header.Xid == xid) return (header, body, events);
        }
    }

    public async Task<(ReplyHeader Header, byte[] Body)> CallAsync(OpCode type, IJuteRecord? body)
    {
        int xid = SendRequest(type, body);
        var (header, payload, _) = await ReadReplyAsync(xid);
        return (header, payload);
    }

    /// <summary>True when the server has closed the connection (read returns end of stream).</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            while (true)
            {
                int n = await _stream.ReadAsync(buffer, cts.Token);
                if (n == 0) return true;
            }
        }
        catch (IOException) { return true; }
        catch (OperationCanceledException) { return false; }
    }

    public void Dispose() => _tcp.Dispose();
}
