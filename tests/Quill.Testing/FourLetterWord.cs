using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Quill.Testing;

/// <summary>A ZooKeeper four-letter word (ruok, srvr, mntr, cons, ...) sent to a server on 127.0.0.1: the whole answer.</summary>
public static class FourLetterWord
{
    public static async Task<string> AskAsync(int port, string word, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(word), cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }
}
