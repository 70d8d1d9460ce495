using System.Globalization;

namespace Quill.Keeper.Config;

/// <summary>A zoo.cfg key whose value cannot be used; the message names the key.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>
/// Reads zoo.cfg the way ZooKeeper does: Java properties syntax (key=value or key: value, # and ! comments),
/// ZooKeeper's key names. Unknown keys are reported as warnings; bad values throw naming the key.
/// </summary>
public static class ZooCfg
{
    public static KeeperOptions Load(string path, Action<string> warn)
    {
        if (!File.Exists(path)) throw new ConfigException($"config file {path} does not exist");
        var options = Parse(File.ReadAllLines(path), warn);
        options.Quorum.StaticConfigFile = Path.GetFullPath(path);
        // Relative directories are relative to where the server runs, as in ZooKeeper.
        options.Quorum.Resolve(options, warn);
        return options;
    }

    public static KeeperOptions Parse(IEnumerable<string> lines, Action<string> warn)
    {
        var o = new KeeperOptions();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or '!') continue;
            int sep = line.IndexOfAny(['=', ':']);
            if (sep <= 0) throw new ConfigException($"line '{line}' is not key=value");
            string key = line[..sep].Trim(), value = line[(sep + 1)..].Trim();
            Apply(o, key, value, warn);
        }
        if (string.IsNullOrEmpty(o.DataDir)) throw new ConfigException("dataDir is not set");
        if (o.MinSessionTimeout > 0 && o.MaxSessionTimeout > 0 && o.MinSessionTimeout > o.MaxSessionTimeout)
            throw new ConfigException($"minSessionTimeout ({o.MinSessionTimeout}) must not be larger than maxSessionTimeout ({o.MaxSessionTimeout})");
        return o;
    }

    private static void Apply(KeeperOptions o, string key, string value, Action<string> warn)
    {
        switch (key)
        {
            case "tickTime": o.TickTime = Int(key, value, min: 1); break;
            case "initLimit": o.InitLimit = Int(key, value, min: 1); break;
            case "syncLimit": o.SyncLimit = Int(key, value, min: 1); break;
            case "dataDir": o.DataDir = value; break;
            case "dataLogDir": o.DataLogDir = value; break;
            case "clientPort":
                o.ClientPort = Int(key, value, min: 0, max: 65535);
                o.Quorum.ClientPortGiven = true;
                break;
            case "clientPortAddress": o.ClientPortAddress = value; break;
            case "maxClientCnxns": o.MaxClientCnxns = Int(key, value, min: 0); break;
            case "minSessionTimeout": o.MinSessionTimeout = Int(key, value, min: -1); break;
            case "maxSessionTimeout": o.MaxSessionTimeout = Int(key, value, min: -1); break;
            case "autopurge.snapRetainCount": o.AutopurgeSnapRetainCount = Math.Max(3, Int(key, value, min: 0)); break;
            case "autopurge.purgeInterval": o.AutopurgePurgeInterval = Int(key, value, min: 0); break;
            case "4lw.commands.whitelist":
                o.FourLetterWordWhitelist = new HashSet<string>(
                    value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);
                break;
            case "jute.maxbuffer": o.JuteMaxBuffer = Int(key, value, min: 1024); break;
            case "forceSync": o.ForceSync = YesNo(key, value); break;
            case "snapCount": o.SnapCount = Int(key, value, min: 2); break;
            case "extendedTypesEnabled" or "zookeeper.extendedTypesEnabled": o.ExtendedTypesEnabled = Bool(key, value); break;
            case "DigestAuthenticationProvider.superDigest" or "zookeeper.DigestAuthenticationProvider.superDigest":
                if (!value.Contains(':')) throw new ConfigException($"{key} must look like super:<base64 sha1 digest>, got '{value}'");
                o.SuperDigest = value;
                break;
            case "znode.container.checkIntervalMs": o.ContainerCheckIntervalMs = Int(key, value, min: 1); break;
            case "metricsProvider.httpPort": o.MetricsPort = Int(key, value, min: 0, max: 65535); break;
            case "metricsProvider.httpHost": o.MetricsHost = value; break;
            case "metricsProvider.className" or "metricsProvider.exportJvmInfo": break;
            case "peerType":
                o.Quorum.PeerType = value.ToLowerInvariant() switch
                {
                    "participant" => PeerRole.Participant,
                    "observer" => PeerRole.Observer,
                    _ => throw new ConfigException($"{key} must be participant or observer, got '{value}'"),
                };
                break;
            case "standaloneEnabled": o.Quorum.StandaloneEnabled = Bool(key, value); break;
            case "reconfigEnabled": o.Quorum.ReconfigEnabled = Bool(key, value); break;
            case "dynamicConfigFile": o.Quorum.DynamicConfigFile = value; break;
            case "quorumListenOnAllIPs": o.Quorum.QuorumListenOnAllIPs = Bool(key, value); break;
            case "cnxTimeout" or "zookeeper.cnxTimeout": o.Quorum.CnxTimeoutMs = Int(key, value, min: 1); break;
            case "electionPortBindRetry" or "zookeeper.electionPortBindRetry": o.Quorum.ElectionPortBindRetry = Int(key, value, min: 0); break;
            case "commitLogCount" or "zookeeper.commitLogCount": o.Quorum.CommitLogCount = Int(key, value, min: 1); break;
            case "syncEnabled": o.Quorum.SyncEnabled = Bool(key, value); break;
            case "skipACL" or "zookeeper.skipACL":
                // ZooKeeper compares the value with "yes" and takes anything else as no.
                o.SkipAcl = value == "yes";
                if (o.SkipAcl) warn($"{key}=yes: no ACL is checked on this server (every client may read, write and reconfigure)");
                else if (value != "no") warn($"{key}={value} is taken as no (only 'yes' skips ACL checks, as in ZooKeeper)");
                break;
            case "readonlymode.enabled": o.Quorum.ReadOnlyModeEnabled = Bool(key, value); break;
            case "admin.enableServer" or "admin.serverPort" or "admin.serverAddress" or "preAllocSize" or "globalOutstandingLimit" or "clientPortListenBacklog":
                warn($"zoo.cfg key {key} is accepted but has no effect in Keeper");
                break;
            default:
                if (key.StartsWith("server.", StringComparison.Ordinal))
                {
                    if (!int.TryParse(key["server.".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                        throw new ConfigException($"{key}: the server id after 'server.' must be a number");
                    o.Servers[id] = value;
                    o.Quorum.AddServer(key, value);
                    break;
                }
                warn($"unknown zoo.cfg key {key} is ignored");
                break;
        }
    }

    private static int Int(string key, string value, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
            throw new ConfigException($"{key} must be a whole number, got '{value}'");
        if (n < min || n > max)
            throw new ConfigException($"{key} must be between {min} and {max}, got {n}");
        return n;
    }

    private static bool YesNo(string key, string value) => value.ToLowerInvariant() switch
    {
        "yes" or "true" => true,
        "no" or "false" => false,
        _ => throw new ConfigException($"{key} must be yes or no, got '{value}'"),
    };

    private static bool Bool(string key, string value) => YesNo(key, value);
}
