using System.Net;
using System.Net.Sockets;

namespace Quill.Testing;

/// <summary>Free TCP ports on the loopback address, found by letting the OS pick one (bind port 0) and reading it back.</summary>
public static class FreePort
{
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
