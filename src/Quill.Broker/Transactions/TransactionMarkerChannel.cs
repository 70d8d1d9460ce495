using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Quill.Broker.Metadata;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Broker.Transactions;

/// <summary>
/// Sends WriteTxnMarkers to other brokers (Kafka's TransactionMarkerChannelManager): one connection per broker, kept
/// open between requests, one request at a time on it. A failed request closes its connection; the caller retries.
/// </summary>
internal sealed class TransactionMarkerChannel(MetadataCache metadata, int brokerId, ILogger log) : IAsyncDisposable
{
    private const short Version = 1;
    private const int MaxResponseBytes = 16 * 1024 * 1024;
    private readonly Dictionary<int, Connection> _connections = [];
    private readonly object _lock = new();
    private int _correlationId;

    /// <summary>Sends one request to <paramref name="broker"/> and returns its answer; throws on any failure of the connection.</summary>
    public async Task<WriteTxnMarkersResponseData> SendAsync(int broker, WriteTxnMarkersRequestData request, TimeSpan timeout, CancellationToken ct)
    {
        Connection connection;
        lock (_lock)
        {
            if (!_connections.TryGetValue(broker, out connection!)) _connections[broker] = connection = new Connection();
        }
        await connection.Gate.WaitAsync(ct);
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
                var stream = await ConnectAsync(connection, broker, cts.Token);
                int correlationId = Interlocked.Increment(ref _correlationId);
                using (var writer = new KafkaWriter())
                {
                    MessageFrames.WriteRequest(writer, new RequestHeader((short)ApiKey.WriteTxnMarkers, Version, correlationId, $"quill-txn-coordinator-{brokerId}"), request);
                    await stream.WriteAsync(writer.WrittenMemory, cts.Token);
                }
                var size = new byte[4];
                await stream.ReadExactlyAsync(size, cts.Token);
                int length = BinaryPrimitives.ReadInt32BigEndian(size);
                if (length < 0 || length > MaxResponseBytes) throw new IOException($"response of {length} bytes");
                var frame = new byte[length];
                await stream.ReadExactlyAsync(frame, cts.Token);
                var (answered, response) = MessageFrames.ReadResponse<WriteTxnMarkersResponseData>(frame, ApiKey.WriteTxnMarkers, Version);
                if (answered != correlationId) throw new IOException($"response to request {answered}, expected {correlationId}");
                return response;
            }
            catch
            {
                connection.Close();
                throw;
            }
        }
        finally
        {
            connection.Gate.Release();
        }
    }

    private async Task<NetworkStream> ConnectAsync(Connection connection, int broker, CancellationToken ct)
    {
        if (connection.Client is { Connected: true } open) return open.GetStream();
        connection.Close();
        if (metadata.InterBrokerEndpoint(broker) is not { } info)
            throw new IOException($"broker {broker} is not registered with listener {metadata.InterBrokerListenerName}");
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(info.Host, info.Port, ct);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        log.LogDebug("Connected to broker {Broker} to write transaction markers", broker);
        connection.Client = client;
        return client.GetStream();
    }

    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            foreach (var connection in _connections.Values) connection.Close();
            _connections.Clear();
        }
        return ValueTask.CompletedTask;
    }

    private sealed class Connection
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public TcpClient? Client;

        public void Close()
        {
            Client?.Dispose();
            Client = null;
        }
    }
}
