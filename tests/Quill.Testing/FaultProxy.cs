using System.Net;
using System.Net.Sockets;

namespace Quill.Testing;

/// <summary>What a cut <see cref="FaultProxy"/> does with its connections.</summary>
public enum CutMode
{
    /// <summary>Open connections are reset (RST to both ends); new ones are accepted and reset at once.</summary>
    Reset,

    /// <summary>
    /// Nothing passes either way, and nobody is told: open connections stall (what was sent waits, as TCP keeps
    /// retransmitting into a partition), new ones are accepted and get no answer. A close or reset from one end waits
    /// too. After <see cref="FaultProxy.Heal"/> they go on where they stopped, unless an end gave up meanwhile.
    /// </summary>
    BlackHole,
}

/// <summary>
/// A TCP proxy on 127.0.0.1 that forwards every connection to one target and can be cut (<see cref="Cut"/>) and
/// healed (<see cref="Heal"/>): a network fault between two processes on one machine. Each accepted connection gets
/// its own connection to the target, opened only while the proxy is not cut; bytes are copied both ways by two
/// pumps that hold at a gate while the proxy is black-holed.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private sealed class Link
    {
        public required Socket Client { get; init; }
        public Socket? Target { get; set; }
        public CancellationTokenSource Closed { get; } = new();
    }

    private readonly Socket _listener;
    private readonly IPEndPoint _target;
    private readonly object _gate = new();
    private readonly HashSet<Link> _links = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly Func<Stream, Stream, CancellationToken, Task>? _opening;
    private TaskCompletionSource _open = NewGate(open: true);

    /// <summary>
    /// Listens on 127.0.0.1:<paramref name="listenPort"/> (0: any free port) and forwards to <paramref name="target"/>.
    /// <paramref name="opening"/>, if given, copies the start of each connection from the client (first stream) to
    /// the target (second) itself, and may change it: for protocols whose hello names an address the proxy must
    /// stand in for.
    /// </summary>
    public FaultProxy(IPEndPoint target, int listenPort = 0, Func<Stream, Stream, CancellationToken, Task>? opening = null)
    {
        _target = target;
        _opening = opening;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, listenPort));
            _listener.Listen(64);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }
    public IPEndPoint Target => _target;
    /// <summary>Null while forwarding.</summary>
    public CutMode? CutMode { get; private set; }

    /// <summary>Connections accepted and not yet closed.</summary>
    public int Connections
    {
        get { lock (_gate) return _links.Count; }
    }

    public void Cut(CutMode mode)
    {
        List<Link> reset = [];
        lock (_gate)
        {
            CutMode = mode;
            if (_open.Task.IsCompleted) _open = NewGate(open: false);
            if (mode == Testing.CutMode.Reset) reset.AddRange(_links);
        }
        foreach (var link in reset) Reset(link);
    }

    /// <summary>Forwards again: stalled connections go on, new ones reach the target.</summary>
    public void Heal()
    {
        lock (_gate)
        {
            CutMode = null;
            _open.TrySetResult();
        }
    }

    private static TaskCompletionSource NewGate(bool open)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open) gate.SetResult();
        return gate;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (SocketException) { continue; }
            var link = new Link { Client = client };
            bool reset;
            lock (_gate)
            {
                reset = CutMode == Testing.CutMode.Reset;
                if (!reset) _links.Add(link);
            }
            if (reset) Reset(link);
            else _ = Task.Run(() => ForwardAsync(link));
        }
    }

    private async Task ForwardAsync(Link link)
    {
        try
        {
            await WaitOpenAsync(link);
            var target = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            link.Target = target;
            target.NoDelay = true;
            link.Client.NoDelay = true;
            try
            {
                await target.ConnectAsync(_target, link.Closed.Token);
            }
            catch (SocketException)
            {
                // The target is down: the client sees what it would without the proxy, a refused connection.
                Reset(link);
                return;
            }
            if (_opening is not null)
            {
                await using var fromClient = new NetworkStream(link.Client, ownsSocket: false);
                await using var toTarget = new NetworkStream(target, ownsSocket: false);
                await _opening(fromClient, toTarget, link.Closed.Token);
            }
            await Task.WhenAll(PumpAsync(link, link.Client, target), PumpAsync(link, target, link.Client));
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
        {
        }
        finally
        {
            Reset(link);
        }
    }

    /// <summary>Copies one direction. Every step waits at the gate, so while black-holed nothing (not even an end of
    /// stream or a reset) crosses.</summary>
    private async Task PumpAsync(Link link, Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            await WaitOpenAsync(link);
            int read;
            try { read = await from.ReceiveAsync(buffer, SocketFlags.None, link.Closed.Token); }
            catch (SocketException) { read = -1; }
            await WaitOpenAsync(link);
            if (read < 0)
            {
                Reset(link);
                return;
            }
            if (read == 0)
            {
                try { to.Shutdown(SocketShutdown.Send); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
                return;
            }
            int sent = 0;
            while (sent < read) sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, link.Closed.Token);
        }
    }

    private async Task WaitOpenAsync(Link link)
    {
        Task open;
        lock (_gate) open = _open.Task;
        await open.WaitAsync(link.Closed.Token);
    }

    /// <summary>Closes both ends with RST (linger 0) and forgets the link.</summary>
    private void Reset(Link link)
    {
        lock (_gate) _links.Remove(link);
        try { link.Closed.Cancel(); } catch (ObjectDisposedException) { }
        foreach (var socket in new[] { link.Client, link.Target })
        {
            if (socket is null) continue;
            try
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
            socket.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        List<Link> links;
        lock (_gate) links = [.. _links];
        foreach (var link in links) Reset(link);
        try { await _accepting; } catch (Exception) { }
    }
}
