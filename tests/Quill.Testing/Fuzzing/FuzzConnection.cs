using System.Net;
using System.Net.Sockets;

namespace Quill.Testing.Fuzzing;

/// <summary>What happened on one connection of a fuzz run.</summary>
/// <param name="ChunksSent">How many of the chunks were written before the server closed the connection (if it did).</param>
/// <param name="ClosedEarly">The server closed the connection before all chunks were written.</param>
/// <param name="BytesReceived">What the server answered, in bytes (the answers themselves are not looked at).</param>
public sealed record FuzzConnectionResult(int ChunksSent, bool ClosedEarly, long BytesReceived);

/// <summary>
/// Throws bytes at a server over one TCP connection, for fuzzing: writes the chunks in order while reading (and
/// discarding) whatever comes back, and stops writing when the server closes the connection. Servers may drop what
/// they have read but not yet handled once the client is gone, so before closing, the client waits until the server
/// has caught up: until <c>answerMarker</c> (what the server answers to a last, valid request the caller put at the
/// end) shows up in what it sent, or, when the stream was mangled past that, until the server has been quiet for
/// <see cref="QuietPeriod"/>. Then it closes its sending side and waits for the server to close too. A server that
/// takes no bytes, or does not close within <c>deadline</c> after its client has finished, is hanging: that throws
/// <see cref="TimeoutException"/>.
/// </summary>
public static class FuzzConnection
{
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromMilliseconds(200);

    public static async Task<FuzzConnectionResult> RunAsync(int port, IReadOnlyList<byte[]> chunks, TimeSpan deadline, byte[]? answerMarker = null)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
        }
        catch (SocketException)
        {
            return new FuzzConnectionResult(0, true, 0); // refused (e.g. too many connections): nothing sent
        }
        var reader = new Reader(socket, answerMarker);
        var reading = Task.Run(reader.RunAsync);

        int sent = 0;
        bool closedEarly = false;
        foreach (var chunk in chunks)
        {
            if (reader.Closed.IsCompleted) { closedEarly = true; break; }
            try
            {
                await socket.SendAsync(chunk, SocketFlags.None).WaitAsync(deadline);
            }
            catch (SocketException)
            {
                closedEarly = true;
                break;
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"the server took none of the client's bytes for {deadline} (after {sent} chunks)");
            }
            sent++;
        }

        if (!closedEarly)
        {
            var giveUp = DateTime.UtcNow + deadline;
            while (!reader.Closed.IsCompleted && !reader.MarkerSeen.IsCompleted)
            {
                long before = reader.Received;
                await Task.WhenAny(reader.Closed, reader.MarkerSeen, Task.Delay(QuietPeriod));
                if (reader.Received == before && !reader.MarkerSeen.IsCompleted) break; // quiet: nothing more is coming
                if (DateTime.UtcNow > giveUp) throw new TimeoutException($"the server kept answering for {deadline} (after {sent} chunks)");
            }
        }
        try { socket.Shutdown(SocketShutdown.Send); } catch (SocketException) { }
        try
        {
            await reader.Closed.WaitAsync(deadline);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the server did not close the connection within {deadline} of its client finishing (after {sent} chunks)");
        }
        await reading;
        return new FuzzConnectionResult(sent, closedEarly, reader.Received);
    }

    private sealed class Reader(Socket socket, byte[]? marker)
    {
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _markerSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _received;

        public Task Closed => _closed.Task;
        public Task MarkerSeen => _markerSeen.Task;
        public long Received => Interlocked.Read(ref _received);

        public async Task RunAsync()
        {
            var buffer = new byte[64 * 1024];
            // The marker may straddle two reads: keep the last marker-length bytes of the previous one in front.
            int keep = marker is null ? 0 : marker.Length - 1;
            int carried = 0;
            try
            {
                while (true)
                {
                    int n = await socket.ReceiveAsync(buffer.AsMemory(carried), SocketFlags.None);
                    if (n == 0) break;
                    Interlocked.Add(ref _received, n);
                    int filled = carried + n;
                    if (marker is not null && buffer.AsSpan(0, filled).IndexOf(marker) >= 0) _markerSeen.TrySetResult();
                    carried = Math.Min(keep, filled);
                    buffer.AsSpan(filled - carried, carried).CopyTo(buffer);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            _closed.TrySetResult();
        }
    }
}
