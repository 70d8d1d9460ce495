using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Quill.Broker.Network;

/// <summary>The Kafka listener: accepts connections and runs each as a <see cref="KafkaConnection"/> until it ends.</summary>
public sealed class KafkaListener : IAsyncDisposable
{
    private RequestDispatcher _dispatcher = null!;
    private readonly int _maxRequestBytes;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, (KafkaConnection Connection, Task Task)> _connections = new();
    private Socket? _socket;
    private Task _acceptLoop = Task.CompletedTask;

    public KafkaListener(int maxRequestBytes, ILogger log)
    {
        _maxRequestBytes = maxRequestBytes;
        _log = log;
    }

    public IPEndPoint Endpoint { get; private set; } = new(IPAddress.Loopback, 0);
    public int ConnectionCount => _connections.Count;

    /// <summary>Binds the port (so it is known, e.g. for port 0) without accepting yet.</summary>
    public void Bind(string host, int port)
    {
        var address = host is "" or "0.0.0.0" ? IPAddress.Any : host == "::" ? IPAddress.IPv6Any
            : IPAddress.TryParse(host, out var parsed) ? parsed
            : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        _socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(new IPEndPoint(address, port));
        _socket.Listen(1024);
        Endpoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    /// <summary>Starts accepting connections (once the broker has loaded its metadata).</summary>
    public void StartAccepting(RequestDispatcher dispatcher)
    {
        _dispatcher = dispatcher;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket!.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _log.LogWarning("Accepting a connection failed: {Reason}", e.Message);
                continue;
            }
            var connection = new KafkaConnection(client, _dispatcher, _maxRequestBytes, _log);
            var task = Task.Run(async () =>
            {
                try
                {
                    await connection.RunAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    _log.LogError(e, "Connection {Id} from {Client} failed", connection.Id, connection.RemoteAddress);
                }
                finally
                {
                    _connections.TryRemove(connection.Id, out _);
                }
            });
            _connections[connection.Id] = (connection, task);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket?.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        foreach (var (connection, _) in _connections.Values) connection.Close();
        try
        {
            await Task.WhenAll(_connections.Values.Select(c => c.Task)).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.LogWarning("{Count} connections did not close within 10s", _connections.Count);
        }
    }
}
