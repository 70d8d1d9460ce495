using System.Net;
using Microsoft.Extensions.Logging;
using Quill.Network;

namespace Quill.Broker.Network;

/// <summary>
/// One named Kafka listener (listeners=NAME://host:port): the shared <see cref="NetworkListener"/>, running each
/// connection as a <see cref="KafkaConnection"/> whose requests carry the listener's name.
/// </summary>
public sealed class KafkaListener : IConnectionHandler, IAsyncDisposable
{
    /// <summary>How long a stopping broker lets connections finish the answers they started.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private RequestDispatcher _dispatcher = null!;
    private readonly int _maxRequestBytes;
    private readonly ILogger _log;
    private NetworkListener? _listener;

    public KafkaListener(int maxRequestBytes, ILogger log, string name = Config.ListenerConfig.Plaintext)
    {
        Name = name;
        _maxRequestBytes = maxRequestBytes;
        _log = log;
    }

    /// <summary>The listener name (upper case, as Kafka normalises it).</summary>
    public string Name { get; }

    public IPEndPoint Endpoint => _listener?.Endpoint ?? new(IPAddress.Loopback, 0);
    public int ConnectionCount => _listener?.ConnectionCount ?? 0;

    /// <summary>Binds the port (so it is known, e.g. for port 0) without accepting yet.</summary>
    public async Task BindAsync(string host, int port) =>
        _listener = await NetworkListener.BindAsync(new IPEndPoint(NetworkListener.ResolveHost(host), port), backlog: 1024, _log)
            .ConfigureAwait(false);

    /// <summary>Starts accepting connections (once the broker has loaded its metadata).</summary>
    public void StartAccepting(RequestDispatcher dispatcher)
    {
        _dispatcher = dispatcher;
        _listener!.Start(this);
    }

    Task IConnectionHandler.RunAsync(NetworkConnection connection) =>
        new KafkaConnection(connection, _dispatcher, _maxRequestBytes, _log, Name).RunAsync();

    /// <summary>Stops accepting; open connections stop reading, send what they started, and close.</summary>
    public Task StopAsync() => _listener?.StopAsync(DrainTimeout) ?? Task.CompletedTask;

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
