using System.Globalization;
using System.Net;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Connection;

/// <summary>One server address from a connect string.</summary>
internal readonly record struct HostAddress(string Host, int Port)
{
    public EndPoint ToEndPoint() =>
        IPAddress.TryParse(Host, out var ip) ? new IPEndPoint(ip, Port) : new DnsEndPoint(Host, Port);

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// ZooKeeper's connect string: "host1:port1,host2:port2/optional/chroot". A missing port means 2181; IPv6 hosts are
/// written in brackets. The chroot, when given, prefixes every path the client sends.
/// </summary>
internal sealed record ConnectString(IReadOnlyList<HostAddress> Hosts, string Chroot)
{
    public const int DefaultPort = 2181;

    public static ConnectString Parse(string connectString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectString);
        string hostsPart = connectString, chroot = "";
        int slash = connectString.IndexOf('/');
        if (slash >= 0)
        {
            hostsPart = connectString[..slash];
            chroot = connectString[slash..];
            if (chroot == "/") chroot = "";
            else if (PathUtils.Validate(chroot) is { } reason)
                throw new ArgumentException($"invalid chroot '{chroot}': {reason}", nameof(connectString));
        }

        var hosts = new List<HostAddress>();
        foreach (var raw in hostsPart.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            hosts.Add(ParseHost(raw));
        if (hosts.Count == 0) throw new ArgumentException($"no hosts in connect string '{connectString}'", nameof(connectString));
        return new ConnectString(hosts, chroot);
    }

    private static HostAddress ParseHost(string raw)
    {
        string host = raw, port = "";
        if (raw.StartsWith('['))
        {
            int close = raw.IndexOf(']');
            if (close < 0) throw new ArgumentException($"unclosed '[' in host '{raw}'");
            host = raw[1..close];
            if (close + 1 < raw.Length)
            {
                if (raw[close + 1] != ':') throw new ArgumentException($"bad host '{raw}'");
                port = raw[(close + 2)..];
            }
        }
        else if (raw.LastIndexOf(':') is var colon and >= 0)
        {
            host = raw[..colon];
            port = raw[(colon + 1)..];
        }
        if (host.Length == 0) throw new ArgumentException($"empty host in '{raw}'");
        if (port.Length == 0) return new HostAddress(host, DefaultPort);
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value is < 1 or > 65535)
            throw new ArgumentException($"bad port in host '{raw}'");
        return new HostAddress(host, value);
    }
}
