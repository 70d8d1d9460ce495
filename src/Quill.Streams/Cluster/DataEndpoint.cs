using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Quill.Streams.Cluster;

/// <summary>
/// What one generation's part in this process answers on the endpoint: the data channels into its keyed tasks, and
/// (in the leader) the followers' control connections. The connection belongs to it once handed over.
/// </summary>
internal interface IGenerationEndpoint
{
    bool Accepts(Hello hello);

    Task ServeAsync(Hello hello, Socket socket, Stream stream);
}

/// <summary>
/// An instance's TCP listener for scale-out (one per process, port chosen free, advertised in its info znode): every
/// connection says what it is in a <see cref="Hello"/>, and is handed to the generation it names. A connection for a
/// generation this process has not started yet waits for it (the instances learn of a new generation at slightly
/// different times); one for an older generation, or that waits too long, is refused.
/// </summary>
internal sealed class DataEndpoint : IDisposable
{
    private static readonly TimeSpan GenerationWait = TimeSpan.FromSeconds(30);
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _closed = new();
    private readonly ConcurrentDictionary<long, IGenerationEndpoint> _generations = new();
    private readonly Action<string>? _log;
    private long _newest;
    /// <summary>Accept errors in a row (only the accept loop touches it).</summary>
    private int _acceptErrors;

    private DataEndpoint(string host, Action<string>? log)
    {
        _log = log;
        _listener = new TcpListener(IPAddress.Parse(host), 0);
        _listener.Start(512);
        Address = $"{host}:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _ = Task.Run(AcceptAsync);
    }

    /// <summary>host:port, as the other instances connect to it.</summary>
    public string Address { get; }

    public static DataEndpoint Open(string host, Action<string>? log) => new(host, log);

    public void Register(long generation, IGenerationEndpoint endpoint)
    {
        _generations[generation] = endpoint;
        long newest;
        while ((newest = Interlocked.Read(ref _newest)) < generation && Interlocked.CompareExchange(ref _newest, generation, newest) != newest)
        {
        }
    }

    public void Unregister(long generation, IGenerationEndpoint endpoint) => _generations.TryRemove(KeyValuePair.Create(generation, endpoint));

    private async Task AcceptAsync()
    {
        while (!_closed.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_closed.Token);
            }
            catch (Exception) when (_closed.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                // A persistent error (too many open files) would spin here: back off, and say so once.
                if (_acceptErrors++ == 0) _log?.Invoke($"scale-out endpoint {Address}: accepting failed ({e.Message}); retrying");
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 10 * _acceptErrors)), _closed.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            _acceptErrors = 0;
            _ = Task.Run(() => HandleAsync(socket));
        }
    }

    private async Task HandleAsync(Socket socket)
    {
        socket.NoDelay = true;
        var stream = new NetworkStream(socket, ownsSocket: true);
        bool handedOver = false;
        try
        {
            var frame = await new FrameReader(stream).NextAsync(_closed.Token);
            if (frame is null) return; // a probe that only connected
            var hello = JsonFrames.Decode<Hello>(frame.Value);
            if (hello.Kind == Hello.Probe)
            {
                await stream.WriteAsync(new byte[] { 1 }, _closed.Token);
                return;
            }
            var target = await FindAsync(hello);
            await stream.WriteAsync(new byte[] { target is null ? (byte)0 : (byte)1 }, _closed.Token);
            if (target is null)
            {
                _log?.Invoke($"refused a connection ({hello}): not a generation running here");
                return;
            }
            handedOver = true;
            await target.ServeAsync(hello, socket, stream);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException
            or System.Text.Json.JsonException or InvalidDataException)
        {
            // The generation that took the connection reports its own failures; a broken hello is just dropped.
        }
        finally
        {
            if (!handedOver) await stream.DisposeAsync();
        }
    }

    private async Task<IGenerationEndpoint?> FindAsync(Hello hello)
    {
        var deadline = DateTime.UtcNow + GenerationWait;
        while (!_closed.IsCancellationRequested && DateTime.UtcNow < deadline)
        {
            if (_generations.TryGetValue(hello.Generation, out var endpoint)) return endpoint.Accepts(hello) ? endpoint : null;
            if (Interlocked.Read(ref _newest) > hello.Generation) return null; // a generation already replaced here
            await Task.Delay(20, _closed.Token);
        }
        return null;
    }

    /// <summary>Whether an instance answers at <paramref name="address"/> (a leader checks before it assigns subtasks there).</summary>
    public static async Task<bool> ProbeAsync(string address, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            using var client = new TcpClient();
            var (host, port) = Split(address);
            await client.ConnectAsync(host, port, cancel.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(JsonFrames.Encode(new Hello { Kind = Hello.Probe }), cancel.Token);
            var answer = new byte[1];
            return await stream.ReadAsync(answer, cancel.Token) == 1 && answer[0] == 1;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Opens a connection to <paramref name="address"/> for <paramref name="hello"/>, trying again for a while while the
    /// instance is not listening yet; fails if it refuses (it runs another generation by now).
    /// </summary>
    public static async Task<NetworkStream> ConnectAsync(string address, Hello hello, CancellationToken cancellationToken)
    {
        var (host, port) = Split(address);
        var deadline = DateTime.UtcNow + GenerationWait;
        while (true)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(host, port, cancellationToken);
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                await Task.Delay(100, cancellationToken);
                continue;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            var stream = new NetworkStream(socket, ownsSocket: true);
            try
            {
                await stream.WriteAsync(JsonFrames.Encode(hello), cancellationToken);
                var answer = new byte[1];
                if (await stream.ReadAsync(answer, cancellationToken) != 1 || answer[0] != 1)
                    throw new IOException($"the instance at {address} refused the connection ({hello}): it runs another generation");
                return stream;
            }
            catch
            {
                await stream.DisposeAsync();
                throw;
            }
        }
    }

    private static (string Host, int Port) Split(string address)
    {
        int colon = address.LastIndexOf(':');
        return (address[..colon], int.Parse(address[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        _closed.Cancel();
        _listener.Stop();
    }
}
