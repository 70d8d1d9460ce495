using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Metrics;
using Quill.Observability;
using Quill.Keeper.Pipeline;
using Quill.Keeper.Protocol;
using Quill.Keeper.Quorum;
using Quill.Keeper.Server;
using Quill.Keeper.Sessions;
using Quill.Keeper.Storage;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;
using Quill.Network;

namespace Quill.Keeper;

/// <summary>
/// A standalone Keeper: recovers state from the data directory, then serves the ZooKeeper client protocol.
/// Embeddable: the broker and the tests build one from <see cref="KeeperOptions"/> directly.
/// </summary>
public sealed class KeeperServer : IConnectionHandler, IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    /// <summary>How long a stopping Keeper lets connections finish the answers they started.</summary>
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(5);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<long, ClientConnection> _connections = new();
    private readonly ConcurrentDictionary<string, int> _connectionsPerIp = new();
    private readonly List<Task> _tasks = [];
    private readonly SnapshotStore _snapshots;
    private SyncStage? _sync;
    private NetworkListener? _listener;
    private ITimer? _ticker;
    private PurgeTask? _purge;
    private readonly KeeperMetrics _metrics = new();
    private MetricsEndpoint? _metricsEndpoint;
    private Snapshotter? _snapshotter;

    public KeeperServer(KeeperOptions options, ILoggerFactory loggers, TimeProvider? time = null)
    {
        Options = options;
        _loggers = loggers;
        _log = loggers.CreateLogger("Keeper");
        _time = time ?? TimeProvider.System;
        if (string.IsNullOrEmpty(options.DataDir)) throw new ArgumentException("dataDir is not set", nameof(options));
        Directory.CreateDirectory(options.DataDir);
        Directory.CreateDirectory(options.EffectiveDataLogDir);
        _snapshots = new SnapshotStore(options.DataDir, loggers.CreateLogger("Keeper.Snapshots"));
        _standaloneLog = new TxnLog(options.EffectiveDataLogDir, new TxnLogOptions { ForceSync = options.ForceSync }, loggers.CreateLogger("Keeper.TxnLog"), _time);
        FourLetterWords = new FourLetterWords(this);
        Metrics = new MetricsSource(_metrics.Meter);
    }

    public KeeperOptions Options { get; }
    private readonly TxnLog _standaloneLog;
    private QuorumPeer? _peer;
    /// <summary>The txn log in use (an ensemble member replaces its own when it truncates).</summary>
    public TxnLog TxnLog => _peer?.TxnLog ?? _standaloneLog;
    /// <summary>The processor clients are served by; null while an ensemble member is not serving (looking, syncing).</summary>
    public RequestProcessor? Processor { get; private set; }
    /// <summary>What srvr and mntr say: standalone, leader or follower.</summary>
    /// <remarks>A follower's mode follows its role in the membership: a reconfig that makes it an observer (or a
    /// participant again) shows at once.</remarks>
    public string Mode
    {
        get => _mode is "follower" or "observer" && _peer is { } peer ? peer.FollowerMode : _mode;
        private set => _mode = value;
    }
    private string _mode = "standalone";
    /// <summary>The counters behind four-letter words and metrics (the same across an ensemble member's terms).</summary>
    public KeeperMetrics Counters => _metrics;
    /// <summary>The ensemble member, when this server is one.</summary>
    public QuorumPeer? Peer => _peer;
    public FourLetterWords FourLetterWords { get; }
    public ICollection<ClientConnection> Connections => _connections.Values;
    /// <summary>The address clients connect to (the real port when the options asked for port 0).</summary>
    public IPEndPoint Endpoint { get; private set; } = new(IPAddress.Loopback, 0);
    public int MetricsPort => _metricsEndpoint?.Port ?? 0;
    /// <summary>What a metrics port exports of this server: its own (metricsProvider.httpPort) or the host's.</summary>
    public MetricsSource Metrics { get; }

    public async Task StartAsync()
    {
        if (Options.Quorum.IsEnsemble)
        {
            await StartMemberAsync().ConfigureAwait(false);
            return;
        }
        var (tree, sessions) = Recover();
        _sync = new SyncStage(TxnLog, _loggers.CreateLogger("Keeper.Sync"));
        _snapshotter = new Snapshotter(_snapshots, _sync.RequestRoll, _loggers.CreateLogger("Keeper.Snapshots"));
        var processor = new RequestProcessor(Options, tree, sessions, _sync, _metrics, _time, _loggers.CreateLogger("Keeper.Requests"))
        {
            SnapshotReady = _snapshotter.Take,
        };
        Processor = processor;
        _sync.Start(batch => processor.Post(new CommittedWork(batch)));
        _tasks.Add(Task.Run(() => processor.RunAsync(_stop.Token)));
        await ListenAsync().ConfigureAwait(false);

        await StartBackgroundAsync().ConfigureAwait(false);
        _log.LogInformation("Keeper listening on {Endpoint}, data in {DataDir}, last zxid 0x{Zxid:x}", Endpoint, Path.GetFullPath(Options.DataDir), tree.LastZxid);
    }

    /// <summary>An ensemble member: the client port opens at once (four-letter words answer), sessions once a term serves.</summary>
    private async Task StartMemberAsync()
    {
        _standaloneLog.Dispose();
        await ListenAsync().ConfigureAwait(false);
        _peer = new QuorumPeer(this, Options, _metrics, _loggers, _time);
        _peer.Start(LoadSecret());
        await StartBackgroundAsync().ConfigureAwait(false);
        _log.LogInformation("Keeper ensemble member {Id} listening for clients on {Endpoint}, data in {DataDir}", Options.Quorum.MyId, Endpoint, Path.GetFullPath(Options.DataDir));
    }

    /// <summary>A term starts serving: new connections go to its processor.</summary>
    internal void Serve(RequestProcessor processor, string mode)
    {
        Mode = mode;
        Processor = processor;
        Metrics.Serving = true;
    }

    /// <summary>A term ends: its connections close (clients reconnect, here or elsewhere, and keep their sessions).</summary>
    internal void StopServing()
    {
        Processor = null;
        Metrics.Serving = false;
        foreach (var c in _connections.Values) c.Close();
    }

    private async Task ListenAsync()
    {
        var address = IPAddress.Parse(Options.ClientPortAddress is "" or "0.0.0.0" ? "0.0.0.0" : Options.ClientPortAddress);
        _listener = await NetworkListener.BindAsync(new IPEndPoint(address, Options.ClientPort), backlog: 512,
            _loggers.CreateLogger("Keeper.Connection")).ConfigureAwait(false);
        Endpoint = _listener.Endpoint;
        _listener.Start(this);
    }

    /// <summary>The tick (session expiry, containers) for whichever processor serves, autopurge, and metrics.</summary>
    private async Task StartBackgroundAsync()
    {
        int tick = Math.Max(10, Math.Min(Options.TickTime / 2, 500));
        _ticker = _time.CreateTimer(_ => Processor?.Post(new TickWork()), null, TimeSpan.FromMilliseconds(tick), TimeSpan.FromMilliseconds(tick));
        _purge = new PurgeTask(Options.DataDir, Options.EffectiveDataLogDir, Options.AutopurgeSnapRetainCount,
            TimeSpan.FromHours(Options.AutopurgePurgeInterval), _time, _loggers.CreateLogger("Keeper.Purge"));
        _purge.Start();
        await StartMetricsAsync().ConfigureAwait(false);
    }

    private async Task StartMetricsAsync()
    {
        if (Options.MetricsPort > 0 || Metrics.ExportedByHost)
        {
            var gauges = await MntrGauges.CreateAsync(this, _metrics.Meter);
            Metrics.BeforeScrape = gauges.RefreshAsync;
        }
        if (Options.MetricsPort > 0 && !Metrics.ExportedByHost)
        {
            _metricsEndpoint = await MetricsEndpoint.StartAsync(Options.MetricsHost, Options.MetricsPort, Metrics, _loggers);
            _log.LogInformation("Prometheus metrics on http://{Host}:{Port}/metrics", Options.MetricsHost, _metricsEndpoint.Port);
        }
        if (_peer is null) Metrics.Serving = true;
    }

    private (DataTree, SessionTracker) Recover()
    {
        var sessions = new SessionTracker(_time, LoadSecret());
        var tree = StateLoader.Load(_snapshots, TxnLog, sessions, Options.ExtendedTypesEnabled, _log);
        return (tree, sessions);
    }

    /// <summary>The secret that session passwords are derived from; kept in the data directory so restarts keep it.</summary>
    private byte[] LoadSecret()
    {
        var path = Path.Combine(Options.DataDir, "keeper.secret");
        if (File.Exists(path))
        {
            var existing = File.ReadAllBytes(path);
            if (existing.Length == 32) return existing;
            _log.LogWarning("{Path} is damaged; sessions from before this start cannot be resumed", path);
        }
        var secret = RandomNumberGenerator.GetBytes(32);
        StorageFiles.WriteDurably(path, secret);
        return secret;
    }

    /// <summary>An ensemble member keeps the ensemble's secret (from its leader) so sessions survive its restart.</summary>
    internal static void WriteSecret(string dataDir, byte[] secret)
    {
        StorageFiles.WriteDurably(Path.Combine(dataDir, "keeper.secret"), secret);
    }

    /// <summary>ZooKeeper's limit of connections per client address (maxClientCnxns), counted in accept order.</summary>
    bool IConnectionHandler.Admit(NetworkConnection connection)
    {
        var ip = connection.RemoteIp;
        int count = _connectionsPerIp.AddOrUpdate(ip, 1, (_, n) => n + 1);
        if (Options.MaxClientCnxns <= 0 || count <= Options.MaxClientCnxns) return true;
        _log.LogWarning("Too many connections from {Ip} - max is {Max}", ip, Options.MaxClientCnxns);
        _connectionsPerIp.AddOrUpdate(ip, 0, (_, n) => n - 1);
        return false;
    }

    async Task IConnectionHandler.RunAsync(NetworkConnection connection)
    {
        var conn = new ClientConnection(connection, Processor, FourLetterWords, Options.JuteMaxBuffer, _loggers.CreateLogger("Keeper.Connection"));
        _connections[conn.Id] = conn;
        try
        {
            await conn.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            // The address's slot is free before the connection leaves the list (what `cons` and tests look at).
            if (_connectionsPerIp.AddOrUpdate(connection.RemoteIp, 0, (_, n) => n - 1) == 0)
                _connectionsPerIp.TryRemove(new KeyValuePair<string, int>(connection.RemoteIp, 0));
            _connections.TryRemove(conn.Id, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Metrics.Serving = false;
        // Stop accepting; open connections stop reading and get the answers to what they sent.
        if (_listener is not null) await _listener.StopAsync(s_drainTimeout).ConfigureAwait(false);
        _ticker?.Dispose();
        _purge?.Dispose();
        foreach (var c in _connections.Values) c.Close();
        // Let the processor finish what is queued before anything is cancelled.
        Processor?.Complete();
        try { await Task.WhenAll(_tasks).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); } catch (Exception) { }
        _stop.Cancel();
        _sync?.Dispose();
        if (_snapshotter is not null) await _snapshotter.Idle.ConfigureAwait(false);
        if (_peer is not null) await _peer.DisposeAsync().ConfigureAwait(false);
        else _standaloneLog.Dispose();
        if (_metricsEndpoint is not null) await _metricsEndpoint.DisposeAsync().ConfigureAwait(false);
        _metrics.Dispose();
    }
}
