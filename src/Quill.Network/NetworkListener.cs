using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Quill.Network;

/// <summary>
/// One listening port: a socket's accept loop, and each connection runs as one
/// <see cref="IConnectionHandler.RunAsync"/> task. Stopping is graceful: stop accepting, ask every connection to stop
/// reading, let the answers under way go out, and cut off what is still open when the drain time is up.
/// </summary>
public sealed class NetworkListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<long, (NetworkConnection Connection, Task Task)> _connections = new();
    private Task _acceptLoop = Task.CompletedTask;
    private Task? _stop;

    private NetworkListener(Socket socket, ILogger log)
    {
        _socket = socket;
        _log = log;
        Endpoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    /// <summary>The bound address (the real port when port 0 was asked for).</summary>
    public IPEndPoint Endpoint { get; }
    public int ConnectionCount => _connections.Count;

    /// <summary>Binds the port (so it is known, e.g. for port 0) without accepting yet.</summary>
    /// <exception cref="SocketException">The address is in use, or cannot be bound.</exception>
    public static Task<NetworkListener> BindAsync(IPEndPoint endpoint, int backlog, ILogger log)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            // No ReuseAddress: on Linux .NET maps it to SO_REUSEADDR *and* SO_REUSEPORT, and SO_REUSEPORT lets a second
            // process bind a port in use and take half its connections. .NET already sets SO_REUSEADDR on TCP sockets
            // there, so a restarted server still binds its port at once past connections in TIME_WAIT.
            socket.Bind(endpoint);
            socket.Listen(backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return Task.FromResult(new NetworkListener(socket, log));
    }

    /// <summary>"0.0.0.0", "::", an address or a host name, as the config files give it.</summary>
    public static IPAddress ResolveHost(string host) =>
        host is "" or "0.0.0.0" ? IPAddress.Any
        : host == "::" ? IPAddress.IPv6Any
        : IPAddress.TryParse(host, out var parsed) ? parsed
        : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);

    public void Start(IConnectionHandler handler) => _acceptLoop = Task.Run(() => AcceptLoopAsync(handler));

    private async Task AcceptLoopAsync(IConnectionHandler handler)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _socket.AcceptAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return; // unbound
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
            {
                return; // unbound
            }
            catch (SocketException e)
            {
                _log.LogWarning("Accepting a connection failed: {Reason}", e.Message);
                continue;
            }
            socket.NoDelay = true;
            var connection = new NetworkConnection(socket);
            if (!handler.Admit(connection))
            {
                _ = connection.CloseAsync();
                continue;
            }
            // Registered before it runs, so that a connection that ends at once is also removed.
            var run = new Task<Task>(() => RunAsync(handler, connection));
            _connections[connection.Id] = (connection, run.Unwrap());
            run.Start(TaskScheduler.Default);
        }
    }

    private async Task RunAsync(IConnectionHandler handler, NetworkConnection connection)
    {
        try
        {
            await handler.RunAsync(connection).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log.LogError(e, "Connection {Id} from {Client} failed", connection.Id, connection.RemoteAddress);
        }
        finally
        {
            await connection.CloseAsync().ConfigureAwait(false);
            _connections.TryRemove(connection.Id, out _);
        }
    }

    /// <summary>Stops accepting, then lets every connection finish what it started, for up to <paramref name="drain"/>.</summary>
    public Task StopAsync(TimeSpan drain)
    {
        lock (_connections) return _stop ??= StopOnceAsync(drain);
    }

    private async Task StopOnceAsync(TimeSpan drain)
    {
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        var open = _connections.Values.ToList();
        foreach (var (connection, _) in open) connection.StopReading();
        var all = Task.WhenAll(open.Select(c => c.Task));
        if (await Task.WhenAny(all, Task.Delay(drain)).ConfigureAwait(false) != all)
        {
            _log.LogWarning("{Count} connections did not close within {Seconds}s; closing them", _connections.Count, drain.TotalSeconds);
            foreach (var (connection, _) in _connections.Values) connection.Abort();
            // A handler waiting on something other than its socket may still not return: stop waiting for it.
            if (await Task.WhenAny(all, Task.Delay(drain)).ConfigureAwait(false) != all)
                _log.LogWarning("{Count} connection handlers did not end after their connections were closed", _connections.Count);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
}
