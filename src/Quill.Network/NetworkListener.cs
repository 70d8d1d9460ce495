using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Quill.Network;

/// <summary>
/// One listening port: Kestrel's socket transport accepts, and each connection runs as one
/// <see cref="IConnectionHandler.RunAsync"/> task. Stopping is graceful: stop accepting, ask every connection to stop
/// reading, let the answers under way go out, and cut off what is still open when the drain time is up.
/// </summary>
public sealed class NetworkListener : IAsyncDisposable
{
    private readonly IConnectionListener _listener;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<long, (NetworkConnection Connection, Task Task)> _connections = new();
    private Task _acceptLoop = Task.CompletedTask;
    private Task? _stop;

    private NetworkListener(IConnectionListener listener, ILogger log)
    {
        _listener = listener;
        _log = log;
        Endpoint = (IPEndPoint)listener.EndPoint;
    }

    /// <summary>The bound address (the real port when port 0 was asked for).</summary>
    public IPEndPoint Endpoint { get; }
    public int ConnectionCount => _connections.Count;

    /// <summary>
    /// How far the transport reads ahead of a handler. Small, so that a connection whose handler has stopped reading
    /// (its answers are backed up) leaves the bytes in the kernel and TCP holds the sender back, instead of the server
    /// buffering up to a whole maximum frame per connection. Longer frames go through <see cref="FrameAssembler"/>.
    /// </summary>
    public const int ReadAheadBytes = 2 * FrameAssembler.AssembleAbove;

    /// <summary>Binds the port (so it is known, e.g. for port 0) without accepting yet.</summary>
    public static async Task<NetworkListener> BindAsync(IPEndPoint endpoint, int backlog, ILogger log)
    {
        var options = new SocketTransportOptions
        {
            Backlog = backlog,
            NoDelay = true,
            MaxReadBufferSize = ReadAheadBytes,
            // The output a connection may have in the transport before its writer waits (see FrameOutput).
            MaxWriteBufferSize = 256 * 1024,
        };
        // Kestrel's own logs (connection resets at Debug) stay out of the server's output.
        var factory = new SocketTransportFactory(Options.Create(options), NullLoggerFactory.Instance);
        try
        {
            return new NetworkListener(await factory.BindAsync(endpoint).ConfigureAwait(false), log);
        }
        catch (AddressInUseException e)
        {
            // What a bind has always thrown here (and what callers catch): the socket's own error.
            throw e.InnerException as SocketException ?? new SocketException((int)SocketError.AddressAlreadyInUse);
        }
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
            ConnectionContext? context;
            try
            {
                context = await _listener.AcceptAsync().ConfigureAwait(false);
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
            if (context is null) return; // unbound
            var connection = new NetworkConnection(context);
            if (!handler.Admit(connection))
            {
                _ = CloseAsync(context);
                continue;
            }
            // Registered before it runs, so that a connection that ends at once is also removed.
            var run = new Task<Task>(() => RunAsync(handler, connection, context));
            _connections[connection.Id] = (connection, run.Unwrap());
            run.Start(TaskScheduler.Default);
        }
    }

    private async Task RunAsync(IConnectionHandler handler, NetworkConnection connection, ConnectionContext context)
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
            await context.Transport.Input.CompleteAsync().ConfigureAwait(false);
            await context.Transport.Output.CompleteAsync().ConfigureAwait(false);
            // Returns once what was written has been sent and the socket is closed.
            await context.DisposeAsync().ConfigureAwait(false);
            _connections.TryRemove(connection.Id, out _);
        }
    }

    private static async Task CloseAsync(ConnectionContext context)
    {
        await context.Transport.Output.CompleteAsync().ConfigureAwait(false);
        await context.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops accepting, then lets every connection finish what it started, for up to <paramref name="drain"/>.</summary>
    public Task StopAsync(TimeSpan drain)
    {
        lock (_connections) return _stop ??= StopOnceAsync(drain);
    }

    private async Task StopOnceAsync(TimeSpan drain)
    {
        await _listener.UnbindAsync().ConfigureAwait(false);
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
        await _listener.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
}
