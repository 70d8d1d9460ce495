using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Quill.Network.Tests;

/// <summary>A real <see cref="NetworkListener"/> on a free port with a small frame echo, driven by <see cref="FramedClientConnection"/>.</summary>
public sealed class ListenerTests
{
    private const int MaxFrame = 1024;

    /// <summary>Answers every frame with the same frame; optionally holds each answer until the test lets it go.</summary>
    private sealed class EchoHandler : IConnectionHandler
    {
        public TaskCompletionSource Received { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource? Hold { get; init; }
        public int Completed;

        public async Task RunAsync(NetworkConnection connection)
        {
            var output = new FrameOutput();
            var sender = output.SendAsync(connection.Output);
            while (true)
            {
                var result = await connection.Input.ReadAsync();
                if (result.IsCanceled) break;
                var buffer = result.Buffer;
                while (FrameCutter.TryCut(ref buffer, MaxFrame, out var frame, out _) == FrameCut.Frame)
                {
                    var answer = new byte[4 + frame.Length];
                    BinaryPrimitives.WriteInt32BigEndian(answer, (int)frame.Length);
                    frame.CopyTo(answer.AsSpan(4));
                    Received.TrySetResult();
                    if (Hold is not null) await Hold.Task;
                    output.Write(answer);
                }
                connection.Input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted) break;
            }
            output.Complete();
            await sender;
            Interlocked.Increment(ref Completed);
        }
    }

    private static byte[] Frame(params byte[] body)
    {
        var bytes = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, body.Length);
        body.CopyTo(bytes, 4);
        return bytes;
    }

    private static async Task<NetworkListener> StartAsync(IConnectionHandler handler)
    {
        var listener = await NetworkListener.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), backlog: 16, NullLogger.Instance);
        listener.Start(handler);
        return listener;
    }

    private static Task<FramedClientConnection> ConnectAsync(NetworkListener listener, int maxFrame = MaxFrame) =>
        FramedClientConnection.ConnectAsync(listener.Endpoint, maxFrame, CancellationToken.None);

    [Fact]
    public async Task Pipelined_frames_come_back_whole_and_in_order()
    {
        await using var listener = await StartAsync(new EchoHandler());
        await using var client = await ConnectAsync(listener);
        // Many frames in one send: the server sees them cut at arbitrary points.
        var all = Enumerable.Range(0, 2000).SelectMany(i => Frame(BitConverter.GetBytes(i))).ToArray();
        await client.SendAsync(all, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (int i = 0; i < 2000; i++)
        {
            var frame = await client.ReadFrameAsync(timeout.Token);
            Assert.Equal(i, BitConverter.ToInt32(frame.ToArray()));
        }
    }

    [Fact]
    public async Task A_client_refuses_a_frame_over_its_limit()
    {
        await using var listener = await StartAsync(new EchoHandler());
        await using var client = await ConnectAsync(listener, maxFrame: 8);
        await client.SendAsync(Frame(new byte[9]), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var e = await Assert.ThrowsAsync<IOException>(async () => await client.ReadFrameAsync(timeout.Token));
        Assert.Contains("frame length 9 is outside 0..8", e.Message);
    }

    [Fact]
    public async Task Stopping_refuses_new_connections_lets_the_answer_under_way_out_then_closes()
    {
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new EchoHandler { Hold = hold };
        var listener = await StartAsync(handler);
        await using var client = await ConnectAsync(listener);
        await client.SendAsync(Frame(42), CancellationToken.None);
        await handler.Received.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var stop = listener.StopAsync(TimeSpan.FromSeconds(30));
        // Not accepting any more: connecting fails (refused) once the port is unbound.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await CanConnectAsync(listener.Endpoint))
        {
            Assert.True(DateTime.UtcNow < deadline, "the listener still accepts connections 30 s after StopAsync");
            await Task.Delay(50);
        }
        Assert.False(stop.IsCompleted); // still draining: the answer is held

        hold.SetResult();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var frame = await client.ReadFrameAsync(timeout.Token);
        Assert.Equal(new byte[] { 42 }, frame.ToArray());
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await client.ReadFrameAsync(timeout.Token));
        await stop.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, handler.Completed);
    }

    [Fact]
    public async Task A_connection_that_does_not_finish_within_the_drain_time_is_cut_off()
    {
        var handler = new EchoHandler { Hold = new TaskCompletionSource() }; // never released
        var listener = await StartAsync(handler);
        await using var client = await ConnectAsync(listener);
        await client.SendAsync(Frame(1), CancellationToken.None);
        await handler.Received.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await listener.StopAsync(TimeSpan.FromMilliseconds(200)).WaitAsync(TimeSpan.FromSeconds(30));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAnyAsync<IOException>(async () => await client.ReadFrameAsync(timeout.Token));
    }

    private static async Task<bool> CanConnectAsync(IPEndPoint endpoint)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endpoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_port_in_use_is_refused_to_a_second_listener_and_bound_again_at_once_after_a_close()
    {
        var first = await NetworkListener.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), backlog: 16, NullLogger.Instance);
        var endpoint = first.Endpoint;
        first.Start(new EchoHandler());
        var client = await ConnectAsync(first);
        var refused = await Assert.ThrowsAsync<SocketException>(() => NetworkListener.BindAsync(endpoint, backlog: 16, NullLogger.Instance));
        Assert.Equal(SocketError.AddressAlreadyInUse, refused.SocketErrorCode);
        // The server closes its side first, which leaves the port's connection in TIME_WAIT.
        await first.DisposeAsync();
        await client.DisposeAsync();

        await using var again = await NetworkListener.BindAsync(endpoint, backlog: 16, NullLogger.Instance);
        Assert.Equal(endpoint.Port, again.Endpoint.Port);
    }
}
