namespace Quill.Keeper;

/// <summary>
/// Everything a Keeper server is configured with. Plain settings so tests and the embedding broker can build one
/// directly; <see cref="Config.ZooCfg"/> maps zoo.cfg onto it. Names and defaults follow ZooKeeper's.
/// </summary>
public sealed class KeeperOptions
{
    public int TickTime { get; set; } = 2000;
    public int InitLimit { get; set; } = 10;
    public int SyncLimit { get; set; } = 5;
    public string DataDir { get; set; } = "";
    /// <summary>Where the transaction log goes; the data directory when empty.</summary>
    public string DataLogDir { get; set; } = "";
    public int ClientPort { get; set; } = 2181;
    public string ClientPortAddress { get; set; } = "127.0.0.1";
    public int MaxClientCnxns { get; set; } = 60;
    /// <summary>-1 means ZooKeeper's default of 2 ticks.</summary>
    public int MinSessionTimeout { get; set; } = -1;
    /// <summary>-1 means ZooKeeper's default of 20 ticks.</summary>
    public int MaxSessionTimeout { get; set; } = -1;
    public int AutopurgeSnapRetainCount { get; set; } = 3;
    /// <summary>Hours between purges; 0 turns autopurge off (ZooKeeper's default).</summary>
    public int AutopurgePurgeInterval { get; set; }
    /// <summary>Four-letter words a client may send; "*" allows all. ZooKeeper allows only srvr by default.</summary>
    public HashSet<string> FourLetterWordWhitelist { get; set; } = new(StringComparer.Ordinal) { "srvr" };
    public int JuteMaxBuffer { get; set; } = 0xfffff;
    public bool ForceSync { get; set; } = true;
    public int SnapCount { get; set; } = 100_000;
    /// <summary>TTL nodes need ZooKeeper's extended types (zookeeper.extendedTypesEnabled).</summary>
    public bool ExtendedTypesEnabled { get; set; }
    /// <summary>"super:&lt;base64 sha1&gt;": a digest that bypasses every ACL (DigestAuthenticationProvider.superDigest).</summary>
    public string? SuperDigest { get; set; }
    /// <summary>
    /// zoo.cfg skipACL=yes (ZooKeeper's zookeeper.skipACL): no ACL is checked, for any request, reconfig included
    /// (ACLs are still validated when set). Only the exact value "yes" turns it on, as in ZooKeeper.
    /// </summary>
    public bool SkipAcl { get; set; }
    public int ContainerCheckIntervalMs { get; set; } = 60_000;
    /// <summary>Port for Prometheus metrics over HTTP; 0 turns it off (metricsProvider.httpPort).</summary>
    public int MetricsPort { get; set; }
    public string MetricsHost { get; set; } = "127.0.0.1";
    /// <summary>server.N lines, kept for the ensemble.</summary>
    public Dictionary<int, string> Servers { get; } = [];
    /// <summary>The ensemble settings (server.N parsed, myid, peerType, ...); checked, not acted on yet.</summary>
    public Config.QuorumConfig Quorum { get; } = new();

    public int EffectiveMinSessionTimeout => MinSessionTimeout > 0 ? MinSessionTimeout : 2 * TickTime;
    public int EffectiveMaxSessionTimeout => MaxSessionTimeout > 0 ? MaxSessionTimeout : 20 * TickTime;
    public string EffectiveDataLogDir => string.IsNullOrEmpty(DataLogDir) ? DataDir : DataLogDir;
}
