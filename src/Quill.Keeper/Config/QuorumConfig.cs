using System.Globalization;

namespace Quill.Keeper.Config;

/// <summary>
/// The ensemble settings of zoo.cfg, read and checked as ZooKeeper 3.5+ reads them (QuorumPeerConfig); Keeper runs no
/// quorum yet, so nothing here opens a port. server.N lines come from zoo.cfg or, when dynamicConfigFile is set, from
/// that file (zoo.cfg.dynamic.&lt;version&gt;). A mistake stops the start with a message naming the key.
/// </summary>
public sealed class QuorumConfig
{
    private readonly Dictionary<int, EnsembleMember> _members = [];

    /// <summary>The servers by id, from server.N lines.</summary>
    public IReadOnlyDictionary<int, EnsembleMember> Members => _members;
    /// <summary>This server's id (the myid file in dataDir); read only for an ensemble.</summary>
    public int? MyId { get; private set; }
    public PeerRole? PeerType { get; set; }
    public bool StandaloneEnabled { get; set; } = true;
    public bool ReconfigEnabled { get; set; }
    public string? DynamicConfigFile { get; set; }
    /// <summary>The zoo.cfg this was read from (a reconfig points its dynamicConfigFile at the new membership).</summary>
    public string? StaticConfigFile { get; set; }
    /// <summary>The version in the dynamic file's name (zoo.cfg.dynamic.&lt;hex&gt;), when it has one.</summary>
    public long? DynamicConfigVersion { get; private set; }
    public bool QuorumListenOnAllIPs { get; set; }
    /// <summary>ms to wait for a connection to another server during election (zookeeper.cnxTimeout).</summary>
    public int CnxTimeoutMs { get; set; } = 5000;
    /// <summary>How often to retry binding the election port; 0 means forever (zookeeper.electionPortBindRetry).</summary>
    public int ElectionPortBindRetry { get; set; } = 3;
    /// <summary>
    /// How many recent committed txns a leader keeps in memory to sync a learner that is behind with a DIFF rather than
    /// a snapshot (zookeeper.commitLogCount; ZooKeeper's default is 500, and it also reads older txns from disk).
    /// </summary>
    public int CommitLogCount { get; set; } = 10_000;
    /// <summary>Whether observers write the txn log to disk like participants.</summary>
    public bool SyncEnabled { get; set; } = true;
    /// <summary>A server cut off from the quorum keeps serving reads (readonlymode.enabled).</summary>
    public bool ReadOnlyModeEnabled { get; set; }
    /// <summary>Whether zoo.cfg set clientPort itself (else a server.N line's client port may give it).</summary>
    internal bool ClientPortGiven { get; set; }

    /// <summary>
    /// ZooKeeper runs a quorum when more than one server votes, or when standaloneEnabled=false and servers are listed;
    /// a single server.N line with standaloneEnabled=true is a standalone server.
    /// </summary>
    /// <summary>The membership the configuration files give, at the version the dynamic file's name carries.</summary>
    public Membership InitialMembership() => new(new Dictionary<int, EnsembleMember>(_members), DynamicConfigVersion ?? 0);

    public bool IsEnsemble => _members.Values.Count(m => m.Role == PeerRole.Participant) > 1 || (!StandaloneEnabled && _members.Count > 0);

    /// <summary>Reads one server.N line; the same id twice is a mistake (Java's properties would keep the last silently).</summary>
    public void AddServer(string key, string value)
    {
        if (!int.TryParse(key["server.".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            throw new ConfigException($"{key}: the server id after 'server.' must be a number");
        if (_members.ContainsKey(id)) throw new ConfigException($"{key} is given twice: server ids must be unique");
        _members[id] = EnsembleMember.Parse(id, value);
    }

    /// <summary>
    /// What needs files besides zoo.cfg, then the checks across keys: the dynamic config file's server lines, the myid
    /// file (for an ensemble), unique and non-clashing addresses, this server in the list.
    /// </summary>
    public void Resolve(KeeperOptions options, Action<string> warn)
    {
        if (DynamicConfigFile is not null) ReadDynamicFile(warn);
        CheckAddresses();
        if (_members.Count > 0 && _members.Values.All(m => m.Role == PeerRole.Observer))
            throw new ConfigException("every server.N line is an observer: an ensemble needs participants to vote");

        if (!IsEnsemble)
        {
            // One server, standalone: its line may say where clients connect.
            if (_members.Count == 1 && _members.Values.Single() is { ClientPort: { } port } only)
            {
                if (ClientPortGiven && options.ClientPort != port)
                    throw new ConfigException($"clientPort is {options.ClientPort} but {only.Key} says {port}: they must agree");
                options.ClientPort = port;
                if (only.ClientHost is { } host) options.ClientPortAddress = host;
            }
            return;
        }

        MyId = ReadMyId(options.DataDir);
        if (!_members.TryGetValue(MyId.Value, out var me))
            throw new ConfigException($"myid is {MyId} but no server.{MyId} line lists it (servers: {string.Join(", ", _members.Keys.Order().Select(id => $"server.{id}"))})");
        if (PeerType is { } declared && declared != me.Role)
            warn($"peerType is {declared.ToString().ToLowerInvariant()} but {me.Key} says {me.Role.ToString().ToLowerInvariant()}; {me.Key} wins, as in ZooKeeper");
        if (me.ClientPort is { } myPort && ClientPortGiven && myPort != options.ClientPort)
            throw new ConfigException($"clientPort is {options.ClientPort} but {me.Key} says {myPort}: they must agree");
        // As in ZooKeeper 3.5+, this server's line may say where its clients connect.
        if (me.ClientPort is { } clientPort)
        {
            options.ClientPort = clientPort;
            if (me.ClientHost is { } clientHost) options.ClientPortAddress = clientHost;
        }
        int voters = _members.Values.Count(m => m.Role == PeerRole.Participant);
        if (voters % 2 == 0)
            warn($"{voters} servers vote: an even number tolerates no more failures than {voters - 1} would");
    }

    private void ReadDynamicFile(Action<string> warn)
    {
        var path = DynamicConfigFile!;
        if (_members.Count > 0)
            throw new ConfigException($"dynamicConfigFile is set and zoo.cfg has server.N lines too: keep them in {path} only");
        if (!File.Exists(path)) throw new ConfigException($"dynamicConfigFile {path} does not exist");
        var name = Path.GetFileName(path);
        int dot = name.LastIndexOf('.');
        if (name.Contains(".dynamic.", StringComparison.Ordinal) && dot >= 0 &&
            long.TryParse(name[(dot + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long version))
            DynamicConfigVersion = version;
        foreach (var raw in File.ReadAllLines(path))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or '!') continue;
            int sep = line.IndexOf('=');
            if (sep <= 0) throw new ConfigException($"dynamicConfigFile {path}: line '{line}' is not key=value");
            string key = line[..sep].Trim(), value = line[(sep + 1)..].Trim();
            if (key.StartsWith("server.", StringComparison.Ordinal)) AddServer(key, value);
            else if (key == "version") continue; // written by reconfig; the file name carries it too
            else if (key.StartsWith("group.", StringComparison.Ordinal) || key.StartsWith("weight.", StringComparison.Ordinal))
                throw new ConfigException($"dynamicConfigFile {path}: {key}: hierarchical quorums (group./weight.) are not supported");
            else warn($"dynamicConfigFile {path}: key {key} is ignored (only server.N lines belong there)");
        }
    }

    /// <summary>Two servers on one host must not share a port; the quorum and election ports of all are distinct there.</summary>
    private void CheckAddresses()
    {
        var used = new Dictionary<(string Host, int Port), string>();
        foreach (var m in _members.Values.OrderBy(m => m.Id))
        {
            foreach (var (port, what) in new[] { (m.QuorumPort, "quorum port"), (m.ElectionPort, "election port") })
            {
                var at = (m.Host.ToLowerInvariant(), port);
                if (used.TryGetValue(at, out var other))
                    throw new ConfigException($"{m.Key}: its {what} {m.Host}:{port} is already {other}");
                used[at] = $"the {what} of {m.Key}";
            }
        }
    }

    private static int ReadMyId(string dataDir)
    {
        var path = Path.Combine(dataDir, "myid");
        if (!File.Exists(path))
            throw new ConfigException($"myid file {path} is missing: in an ensemble, each server's dataDir holds its id (the N of its server.N line)");
        var text = File.ReadAllText(path).Trim();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            throw new ConfigException($"myid file {path} must hold a server id (a number), not '{text}'");
        return id;
    }
}
