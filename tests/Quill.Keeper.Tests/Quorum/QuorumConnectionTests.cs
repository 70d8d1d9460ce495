using System.Net;
using System.Net.Sockets;
using Quill.Keeper.Quorum;

namespace Quill.Keeper.Tests.Quorum;

public sealed class QuorumConnectionTests
{
    [Fact]
    public async Task a_peer_that_does_not_read_is_dropped_once_the_send_queue_passes_its_bound()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptSocketAsync();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        using var silent = await accepting; // connected, never reads: the kernel's buffers fill, then the queue grows
        await using var connection = new QuorumConnection(client) { QueueLimitBytes = 4 << 20 };

        var chunk = new byte[1 << 20];
        int sent = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!connection.IsClosed && DateTime.UtcNow < deadline && sent < 2000)
        {
            connection.Send(PacketType.Proposal, sent + 1, chunk);
            sent++;
            if (connection.QueuedBytes > 2 << 20) await Task.Delay(1); // let the writer fill the socket buffers
        }
        // Without a bound every 1 MiB packet would queue up (2 GiB); with it, the connection closes after the kernel's
        // buffers and about 4 MiB of queue.
        Assert.True(connection.IsClosed, $"still open after {sent} MiB queued");
        Assert.True(sent < 2000, $"{sent} packets were sent");
        Assert.Contains("send queue", connection.CloseReason);
    }

    [Fact]
    public async Task a_single_packet_larger_than_the_bound_goes_out_when_the_queue_is_below_it()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptSocketAsync();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        using var peer = await accepting;
        await using var sender = new QuorumConnection(client) { QueueLimitBytes = 1 << 20 };
        await using var receiver = new QuorumConnection(peer);

        sender.Send(PacketType.Snap, 7, new byte[8 << 20]);
        var p = await receiver.ReceiveAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        Assert.Equal(PacketType.Snap, p.Type);
        Assert.Equal(8 << 20, p.Data.Length);
        Assert.False(sender.IsClosed);
    }
}
