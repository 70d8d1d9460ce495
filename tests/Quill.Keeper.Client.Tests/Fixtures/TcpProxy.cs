using System.Net;
using System.Net.Sockets;

namespace Quill.Keeper.Client.Tests.Fixtures;

/// <summary>
/// A TCP relay on 127.0.0.1 between a client and a server, so tests can break the network without touching the
/// server: drop every connection, refuse new ones, or swallow traffic so the server seems to go silent.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient Client, TcpClient Server)> _links = [];
    private readonly Task _acceptLoop;

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string ConnectString => $"127.0.0.1:{Port}";

    /// <summary>While true, new connections are closed as soon as they are accepted.</summary>
    public volatile bool Refusing;

    /// <summary>While true, bytes are read and thrown away in both directions: the peer seems alive but silent.</summary>
    public volatile bool Swallowing;

    /// <summary>Connections accepted so far, refused ones included: each is a client's attempt to connect.</summary>
    public int Attempts => Volatile.Read(ref _attempts);
    private int _attempts;

    public int ConnectionCount
    {
        get
        {
            lock (_links) return _links.Count;
        }
    }

    /// <summary>Closes every open connection (as a network failure would).</summary>
    public void DropAll()
    {
        lock (_links)
        {
            foreach (var (client, server) in _links)
            {
                client.Dispose();
                server.Dispose();
            }
            _links.Clear();
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }
            Interlocked.Increment(ref _attempts);
            if (Refusing)
            {
                client.Dispose();
                continue;
            }
            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _targetPort);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }
            lock (_links) _links.Add((client, server));
            _ = PumpAsync(client, server);
            _ = PumpAsync(server, client);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var input = from.GetStream();
            var output = to.GetStream();
            while (true)
            {
                int read = await input.ReadAsync(buffer, _stop.Token);
                if (read == 0) break;
                if (!Swallowing) await output.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception)
        {
            // Either side closed.
        }
        from.Dispose();
        to.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        DropAll();
        await _acceptLoop;
    }
}
