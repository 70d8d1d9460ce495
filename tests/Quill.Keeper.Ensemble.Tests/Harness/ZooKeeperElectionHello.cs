using System.Buffers.Binary;
using System.Text;

namespace Quill.Keeper.Ensemble.Tests.Harness;

/// <summary>
/// Apache ZooKeeper 3.8 opens an election connection with a hello: protocol version (long, -65536 or -65535), its
/// server id (long), and its own election address (int length, "host:port", several joined by '|'). A server that
/// gets a hello from a lower id drops that connection and dials back the address in the hello, so without help the
/// way back would bypass the proxies. The election proxy i→j therefore puts in the hello the proxy j→i, through which
/// j then reaches i and which a partition cuts too. Older hellos (a bare id) carry no address and pass unchanged.
/// </summary>
internal static class ZooKeeperElectionHello
{
    private const long ProtocolV1 = -65536L;
    private const long ProtocolV2 = -65535L;
    private const int MaxAddressBytes = 4096;

    public static Func<Stream, Stream, CancellationToken, Task> RewriteAddress(int dialBackPort) => async (client, target, ct) =>
    {
        var head = new byte[16];
        await client.ReadExactlyAsync(head, ct);
        long version = BinaryPrimitives.ReadInt64BigEndian(head);
        if (version is not (ProtocolV1 or ProtocolV2))
        {
            await target.WriteAsync(head, ct);
            return;
        }
        var lengthBytes = new byte[4];
        await client.ReadExactlyAsync(lengthBytes, ct);
        int length = BinaryPrimitives.ReadInt32BigEndian(lengthBytes);
        if (length is < 0 or > MaxAddressBytes) throw new IOException($"election hello with an address of {length} bytes");
        await client.ReadExactlyAsync(new byte[length], ct);
        var address = Encoding.ASCII.GetBytes($"127.0.0.1:{dialBackPort}");
        var hello = new byte[16 + 4 + address.Length];
        head.CopyTo(hello, 0);
        BinaryPrimitives.WriteInt32BigEndian(hello.AsSpan(16), address.Length);
        address.CopyTo(hello, 20);
        await target.WriteAsync(hello, ct);
    };
}
