using System.Globalization;

namespace Quill.Keeper.Config;

/// <summary>
/// One configuration of the ensemble (ZooKeeper's QuorumVerifier of a majority quorum): the servers by id and the
/// version, which is the zxid of the reconfig that made it (0 for the one zoo.cfg gives). Its text is what
/// /zookeeper/config holds and what the dynamic config file holds: one server.N line each, then version=&lt;hex&gt;.
/// Immutable: a reconfig makes a new one.
/// </summary>
public sealed class Membership
{
    public Membership(IReadOnlyDictionary<int, EnsembleMember> members, long version)
    {
        Members = members;
        Version = version;
        Voters = members.Values.Where(m => m.Role == PeerRole.Participant).Select(m => (long)m.Id).ToHashSet();
    }

    public IReadOnlyDictionary<int, EnsembleMember> Members { get; }
    public long Version { get; }
    public IReadOnlySet<long> Voters { get; }

    /// <summary>More than half of the voters are in <paramref name="ids"/>.</summary>
    public bool IsQuorum(IEnumerable<long> ids) => ids.Count(Voters.Contains) > Voters.Count / 2;

    public bool Contains(long sid) => sid <= int.MaxValue && Members.ContainsKey((int)sid);

    /// <summary>A server line as ZooKeeper prints it: host:quorumPort:electionPort:role;clientHost:clientPort.</summary>
    public static string ServerSpec(EnsembleMember m) =>
        string.Create(CultureInfo.InvariantCulture, $"{m.Host}:{m.QuorumPort}:{m.ElectionPort}:{(m.Role == PeerRole.Participant ? "participant" : "observer")}") +
        (m.ClientPort is { } port ? string.Create(CultureInfo.InvariantCulture, $";{m.ClientHost ?? "0.0.0.0"}:{port}") : "");

    /// <summary>The server lines alone (the dynamic config file's content).</summary>
    public string ServerLines() => string.Join("\n", Members.Values.OrderBy(m => m.Id).Select(m => $"{m.Key}={ServerSpec(m)}"));

    /// <summary>The text of /zookeeper/config.</summary>
    public override string ToString() => ServerLines() + "\nversion=" + Version.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Reads server.N lines (separated by newlines or commas) and an optional version=&lt;hex&gt; line.</summary>
    public static Membership Parse(string text, long? version = null)
    {
        var members = new Dictionary<int, EnsembleMember>();
        long parsedVersion = 0;
        foreach (var raw in text.Split(['\n', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw[0] is '#' or '!') continue;
            int sep = raw.IndexOf('=');
            if (sep <= 0) throw new ConfigException($"'{raw}' is not key=value");
            string key = raw[..sep].Trim(), value = raw[(sep + 1)..].Trim();
            if (key == "version")
            {
                if (!long.TryParse(value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out parsedVersion))
                    throw new ConfigException($"version must be a hex number, got '{value}'");
                continue;
            }
            var member = ParseServer(key, value);
            if (!members.TryAdd(member.Id, member)) throw new ConfigException($"{key} is given twice: server ids must be unique");
        }
        return new Membership(members, version ?? parsedVersion);
    }

    /// <summary>One server.N=spec pair.</summary>
    public static EnsembleMember ParseServer(string key, string value)
    {
        if (!key.StartsWith("server.", StringComparison.Ordinal) ||
            !int.TryParse(key["server.".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            throw new ConfigException($"{key}: expected server.N with a numeric id");
        return EnsembleMember.Parse(id, value);
    }
}
