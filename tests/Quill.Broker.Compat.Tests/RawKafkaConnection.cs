using System.Buffers.Binary;
using System.Net.Sockets;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Compat.Tests;

/// <summary>A bare Kafka connection for wire-level tests: send exact bytes or described requests, read raw frames.</summary>
public sealed class RawKafkaConnection : IDisposable
{
    private readonly TcpClient _client = new() { NoDelay = true };
    private NetworkStream _stream = null!;
    private int _correlationId;

    public static async Task<RawKafkaConnection> ConnectAsync(int port)
    {
        var connection = new RawKafkaConnection();
        await connection._client.ConnectAsync("127.0.0.1", port);
        connection._stream = connection._client.GetStream();
        return connection;
    }

    /// <summary>The client id the request headers carry.</summary>
    public string ClientId { get; set; } = "raw-test";

    public async Task SendRawAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Closes the sending side only (the client has nothing more to ask), as a client finishing up may.</summary>
    public void ShutdownSend() => _client.Client.Shutdown(SocketShutdown.Send);

    /// <summary>Sends a request for <paramref name="api"/> at <paramref name="version"/>; returns its correlation id.</summary>
    public async Task<int> SendAsync(Api api, short version, StructValue body)
    {
        int id = ++_correlationId;
        using var writer = new KafkaWriter();
        KafkaFrames.WriteRequest(writer, new RequestHeader((short)api.Key, version, id, ClientId), body);
        await _stream.WriteAsync(writer.WrittenMemory);
        return id;
    }

    public async Task<StructValue> RequestAsync(Api api, short version, StructValue body)
    {
        int id = await SendAsync(api, version, body);
        var frame = await ReadFrameAsync() ?? throw new IOException("the broker closed the connection");
        var (correlationId, response) = KafkaFrames.DecodeResponse(frame, api, version);
        Assert.Equal(id, correlationId);
        return response;
    }

    /// <summary>The next response frame (without its size), or null once the broker has closed the connection.</summary>
    public async Task<byte[]?> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var size = new byte[4];
        if (!await ReadExactlyAsync(size, cts.Token)) return null;
        var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
        return await ReadExactlyAsync(frame, cts.Token) ? frame : null;
    }

    /// <summary>True if the broker closes the connection (rather than answering) within the timeout.</summary>
    public async Task<bool> IsClosedByBrokerAsync()
    {
        try
        {
            return await ReadFrameAsync(TimeSpan.FromSeconds(10)) is null;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken ct)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await _stream.ReadAsync(buffer.AsMemory(read), ct);
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    public void Dispose() => _client.Dispose();
}
