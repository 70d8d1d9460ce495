using System.Globalization;

namespace Quill.Keeper.Config;

/// <summary>Whether a server votes (participant) or only follows (observer).</summary>
public enum PeerRole { Participant, Observer }

/// <summary>
/// One server.N line: <c>host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]</c>, as
/// ZooKeeper 3.5+ reads it (QuorumPeer.QuorumServer). The quorum port is where followers connect to the leader, the
/// election port where servers vote.
/// </summary>
public sealed record EnsembleMember(int Id, string Host, int QuorumPort, int ElectionPort, PeerRole Role, string? ClientHost, int? ClientPort)
{
    public string Key => $"server.{Id}";

    /// <summary>Parses the value of server.<paramref name="id"/>; a mistake throws naming the key.</summary>
    public static EnsembleMember Parse(int id, string value)
    {
        string key = $"server.{id}";
        if (value.Contains('|'))
            throw new ConfigException($"{key}: several addresses for one server (a|b) are not supported yet");
        var halves = value.Split(';');
        if (halves.Length > 2) throw new ConfigException($"{key}: more than one ';' in '{value}'");

        var address = halves[0].Trim();
        string host;
        string[] ports;
        // An IPv6 host is written in brackets: [::1]:2888:3888.
        if (address.StartsWith('['))
        {
            int close = address.IndexOf(']', StringComparison.Ordinal);
            if (close < 0) throw new ConfigException($"{key}: '[' without ']' in '{value}'");
            host = address[1..close];
            ports = address[(close + 1)..].TrimStart(':').Split(':');
        }
        else
        {
            var parts = address.Split(':');
            host = parts[0].Trim();
            ports = parts[1..];
        }
        if (ports.Length is < 2 or > 3)
            throw new ConfigException($"{key} must look like host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort], got '{value}'");
        if (host.Length == 0) throw new ConfigException($"{key}: the host is empty in '{value}'");
        int quorumPort = Port(key, "quorum port", ports[0]);
        int electionPort = Port(key, "election port", ports[1]);
        var role = PeerRole.Participant;
        if (ports.Length == 3)
        {
            role = ports[2].Trim().ToLowerInvariant() switch
            {
                "participant" => PeerRole.Participant,
                "observer" => PeerRole.Observer,
                var other => throw new ConfigException($"{key}: the role must be participant or observer, got '{other}'"),
            };
        }
        if (quorumPort == electionPort)
            throw new ConfigException($"{key}: the quorum port and the election port are both {quorumPort}; they must differ");

        string? clientHost = null;
        int? clientPort = null;
        if (halves.Length == 2)
        {
            var client = halves[1].Trim();
            int colon = client.LastIndexOf(':');
            if (colon >= 0)
            {
                clientHost = client[..colon].Trim().Trim('[', ']');
                if (clientHost.Length == 0) throw new ConfigException($"{key}: the client host is empty in '{value}'");
            }
            clientPort = Port(key, "client port", client[(colon + 1)..]);
            if (clientPort == quorumPort || clientPort == electionPort)
                throw new ConfigException($"{key}: the client port {clientPort} is also its quorum or election port");
        }
        return new EnsembleMember(id, host, quorumPort, electionPort, role, clientHost, clientPort);
    }

    private static int Port(string key, string what, string text)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw new ConfigException($"{key}: the {what} must be a number from 1 to 65535, got '{text.Trim()}'");
        return port;
    }
}
