using System.Buffers.Binary;
using System.Net.Sockets;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Commands.Kafka;

/// <summary>
/// One connection to one broker for the admin requests librdkafka does not send (AlterPartitionReassignments,
/// ListPartitionReassignments): a typed request out, its response back, one at a time, each bounded by a timeout.
/// </summary>
public sealed class KafkaRequestConnection : IDisposable
{
    private const int MaxResponseBytes = 64 << 20;
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly TimeSpan _timeout;
    private int _correlationId;

    private KafkaRequestConnection(TcpClient client, TimeSpan timeout)
    {
        _client = client;
        _stream = client.GetStream();
        _timeout = timeout;
    }

    public static async Task<KafkaRequestConnection> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            await client.ConnectAsync(host, port, cts.Token);
            return new KafkaRequestConnection(client, timeout);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            client.Dispose();
            throw new ToolException($"cannot connect to the broker at {host}:{port}: {e.Message}", ExitCodes.Failed);
        }
    }

    public async Task<T> RequestAsync<T>(IApiRequest body, short version, CancellationToken ct) where T : class, IApiResponse, IKafkaMessage<T>
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(_timeout);
        int correlationId = ++_correlationId;
        try
        {
            using (var writer = new KafkaWriter())
            {
                MessageFrames.WriteRequest(writer, new RequestHeader((short)body.ApiKey, version, correlationId, "quill-tools"), body);
                await _stream.WriteAsync(writer.WrittenMemory, cts.Token);
            }
            var size = new byte[4];
            await _stream.ReadExactlyAsync(size, cts.Token);
            int length = BinaryPrimitives.ReadInt32BigEndian(size);
            if (length < 0 || length > MaxResponseBytes) throw new IOException($"a response of {length} bytes");
            var frame = new byte[length];
            await _stream.ReadExactlyAsync(frame, cts.Token);
            var (answered, response) = MessageFrames.ReadResponse<T>(frame, body.ApiKey, version);
            if (answered != correlationId) throw new IOException($"the response to request {answered} came for request {correlationId}");
            return response;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ToolException($"the broker did not answer {body.ApiKey} within {_timeout.TotalSeconds:0} s", ExitCodes.Failed);
        }
        catch (Exception e) when (e is IOException or SocketException or EndOfStreamException)
        {
            throw new ToolException($"{body.ApiKey} failed: {e.Message}", ExitCodes.Failed);
        }
    }

    public void Dispose() => _client.Dispose();
}
