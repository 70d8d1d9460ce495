using Microsoft.Extensions.Logging;
using Quill.Broker.Config;
using Quill.Broker.Groups;
using Quill.Broker.Handlers;
using Quill.Broker.Handlers.Acls;
using Quill.Broker.Handlers.Groups;
using Quill.Broker.Handlers.Transactions;
using Quill.Broker.Metadata;
using Quill.Broker.Network;
using Quill.Broker.Partitions;
using Quill.Keeper.Client;
using Quill.Observability;

namespace Quill.Broker;

/// <summary>
/// One Kafka broker: connects to Keeper (the only path to metadata), checks its log dirs belong to this cluster,
/// opens the logs, binds the Kafka listener, registers itself in /brokers/ids, loads the brokers and topics, stands
/// for controller (one broker of the cluster is), and then serves requests for the partitions it leads. Periodic upkeep (retention every log.retention.check.interval.ms, compaction
/// every log.cleaner.backoff.ms, flush.ms, recovery-point checkpoints) runs on one <see cref="Log.LogScheduler"/>. Embeddable: `quill start`, `quill broker start` and the tests build it from
/// <see cref="BrokerOptions"/>.
/// </summary>
public sealed class BrokerServer : IAsyncDisposable
{
    private readonly BrokerOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<Func<BrokerServices, IEnumerable<IRequestHandler>>> _handlerSets;
    private Log.LogScheduler? _logScheduler;
    private KafkaZkClient? _zk;
    private KeeperClientOptions? _keeperOptions;
    private TimeSpan _staleWait;
    private readonly CancellationTokenSource _stopping = new();
    private ReplicaManager? _replicas;
    private Controller? _controller;
    private Replication.ReplicaFetcherManager? _fetchers;
    private Replication.IsrManager? _isr;
    private readonly List<KafkaListener> _listeners = [];
    private readonly Metrics.BrokerMetrics _metrics = new();
    private MetricsEndpoint? _metricsEndpoint;
    private int _disposed;

    /// <param name="handlerSets">
    /// The request handlers, as factories over the broker's services; by default <see cref="DefaultHandlers"/>.
    /// </param>
    public BrokerServer(BrokerOptions options, ILoggerFactory loggers, TimeProvider? time = null,
        IReadOnlyList<Func<BrokerServices, IEnumerable<IRequestHandler>>>? handlerSets = null)
    {
        _options = options;
        _loggers = loggers;
        _log = loggers.CreateLogger("Quill.Broker");
        _time = time ?? TimeProvider.System;
        _handlerSets = handlerSets ?? DefaultHandlers;
        Metrics = new MetricsSource(_metrics.Meter) { BeforeScrape = _metrics.RefreshAsync };
    }

    /// <summary>Every handler set the broker serves: the data path and admin APIs (more sets are added here as they are written).</summary>
    public static readonly IReadOnlyList<Func<BrokerServices, IEnumerable<IRequestHandler>>> DefaultHandlers = [CoreHandlers, GroupHandlerSet, TransactionHandlerSet];

    /// <summary>The consumer-group APIs, answered by the group coordinator.</summary>
    public static IEnumerable<IRequestHandler> GroupHandlerSet(BrokerServices s) =>
        s.Groups is null ? [] :
        [
            .. GroupHandlers.Create(s.Groups, s, (topic, partition) => s.Metadata.GetPartition(topic, partition) is not null,
                s.Transactions is { } transactions ? transactions.TryStartAsync : null, s.Transactions is { } t ? t.CoordinatorOf : null,
                s.EnsureOffsetsTopicAsync),
            new OffsetDeleteHandler(s.Groups, (topic, partition) => s.Metadata.GetPartition(topic, partition) is not null),
        ];

    /// <summary>The transaction APIs, answered by the transaction coordinator (InitProducerId is in <see cref="CoreHandlers"/>).</summary>
    public static IEnumerable<IRequestHandler> TransactionHandlerSet(BrokerServices s) =>
        s.Transactions is null || s.Groups is null ? [] :
        [
            new AddPartitionsToTxnHandler(s), new AddOffsetsToTxnHandler(s), new EndTxnHandler(s), new TxnOffsetCommitHandler(s),
            new WriteTxnMarkersHandler(s),
        ];

    /// <summary>The handlers of this folder: data path, admin, cluster. ApiVersions is added by the server itself.</summary>
    public static IEnumerable<IRequestHandler> CoreHandlers(BrokerServices s) =>
    [
        new MetadataHandler(s), new ProduceHandler(s), new FetchHandler(s), new ListOffsetsHandler(s),
        new InitProducerIdHandler(s), new CreateTopicsHandler(s), new DeleteTopicsHandler(s), new CreatePartitionsHandler(s),
        new DescribeConfigsHandler(s), new AlterConfigsHandler(s), new IncrementalAlterConfigsHandler(s),
        new DeleteRecordsHandler(s), new DescribeClusterHandler(s), new OffsetForLeaderEpochHandler(s),
        new DescribeAclsHandler(), new CreateAclsHandler(), new DeleteAclsHandler(), new ElectLeadersHandler(s), new ControlledShutdownHandler(s), new LeaderAndIsrHandler(s), new UpdateMetadataHandler(s), new StopReplicaHandler(s),
        new AlterPartitionReassignmentsHandler(s), new ListPartitionReassignmentsHandler(s), new DescribeLogDirsHandler(s),
        new SaslHandshakeHandler(s.Loggers.CreateLogger("Quill.Broker.Sasl")), new SaslAuthenticateHandler(),
    ];

    public BrokerOptions Options => _options;
    public BrokerServices Services { get; private set; } = null!;
    /// <summary>The Kafka port actually bound by the first listener (useful when the options asked for port 0).</summary>
    public int Port => _listeners.Count > 0 ? _listeners[0].Endpoint.Port : 0;

    /// <summary>The port a named listener bound; 0 if there is no such listener (or it is not bound yet).</summary>
    public int PortOf(string listenerName) => _listeners.FirstOrDefault(l => l.Name == listenerName)?.Endpoint.Port ?? 0;
    public string ClusterId => Services.Metadata.ClusterId;
    /// <summary>The metrics HTTP port actually bound; 0 when metrics.http.port is off.</summary>
    public int MetricsPort => _metricsEndpoint?.Port ?? 0;
    /// <summary>What a metrics port exports of this broker: its own (metrics.http.port) or the host's.</summary>
    public MetricsSource Metrics { get; }

    public async Task StartAsync(CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(_options.ZooKeeperConnect))
            throw new BrokerConfigException("zookeeper.connect: not set (the broker keeps its metadata in Keeper or ZooKeeper)");
        _options.ValidateListeners();
        // Up first, so /health answers 503 while the broker starts.
        if (_options.MetricsPort > 0 && !Metrics.ExportedByHost)
            _metricsEndpoint = await MetricsEndpoint.StartAsync(_options.MetricsHost ?? _options.ListenHost, _options.MetricsPort, Metrics, _loggers, ct);
        string firstDir = _options.LogDirs[0];
        var zk = _zk = new KafkaZkClient(await ConnectKeeperAsync(firstDir, ct), _loggers.CreateLogger("Quill.Broker.Keeper"), _time);
        await zk.EnsurePersistentPathsAsync(ct);
        string clusterId = await zk.GetOrCreateClusterIdAsync(ct);
        MetaProperties.CheckOrWrite(_options.LogDirs, _options.BrokerId, clusterId, _time);

        // Dynamic broker configs change the log defaults, so they are read before any log is opened.
        var dynamicConfig = new DynamicBrokerConfig(_options);
        dynamicConfig.Update(await zk.ReadBrokerConfigAsync(Metadata.ZkPaths.DefaultBrokerEntity, ct),
            await zk.ReadBrokerConfigAsync(_options.BrokerId.ToString(System.Globalization.CultureInfo.InvariantCulture), ct));

        var topicConfigs = await zk.ReadAllTopicConfigsAsync(ct);
        _replicas = new ReplicaManager(_options.LogDirs, _options.LogDefaults,
            topic => TopicConfigs.ToLogConfig(_options.LogDefaults, topicConfigs.GetValueOrDefault(topic) ?? []),
            _time, _loggers.CreateLogger("Quill.Broker.Replicas"));
        var cache = new MetadataCache { InterBrokerListenerName = _options.InterBrokerListenerName, ControlPlaneListenerName = _options.ControlPlaneListenerName };
        _fetchers = new Replication.ReplicaFetcherManager(_replicas, cache, _options, _time, _loggers.CreateLogger("Quill.Broker.ReplicaFetcher")) { Metrics = _metrics };
        _isr = new Replication.IsrManager(zk, _replicas, _options, _time, _loggers.CreateLogger("Quill.Broker.Isr")) { Metrics = _metrics };
        _controller = new Controller(zk, cache, _replicas, _options, dynamicConfig, _time, _loggers.CreateLogger("Quill.Broker.Controller")) { Metrics = _metrics };
        Services = new BrokerServices
        {
            Options = _options,
            DynamicConfig = dynamicConfig,
            Metadata = cache,
            Controller = _controller,
            Replicas = _replicas,
            ProducerIds = new ProducerIdManager(zk, _options.BrokerId),
            Zk = zk,
            Loggers = _loggers,
            Time = _time,
            Metrics = _metrics,
        };
        _metrics.Observe(Services);
        _replicas.LogFlushed = _metrics.LogFlushed;

        foreach (var config in _options.EffectiveListeners)
        {
            var listener = new KafkaListener(_options.SocketRequestMaxBytes, _loggers.CreateLogger("Quill.Broker.Network"), config.Name);
            _listeners.Add(listener);
            await listener.BindAsync(config.Host, config.Port);
        }
        Services.Self = SelfAsAdvertised();

        var staleWait = _staleWait = TimeSpan.FromMilliseconds(_options.ZooKeeperSessionTimeoutMs * 1.5 + 2000);
        await zk.RegisterBrokerAsync(Services.Self, staleWait, ct);
        await _controller.StartAsync(clusterId, staleWait, ct);
        Services.Groups = await StartGroupCoordinatorAsync(ct);
        Services.Transactions = new Transactions.TransactionCoordinatorHost(Services, _loggers.CreateLogger("Quill.Broker.Transactions"));
        await Services.Transactions.StartIfTopicExistsAsync(ct);

        var handlers = _handlerSets.SelectMany(set => set(Services)).ToList();
        RequestDispatcher? dispatcher = null;
        handlers.Add(new ApiVersionsHandler(() => dispatcher!.Supported));
        var handlerLog = _loggers.CreateLogger("Quill.Broker.Handlers");
        foreach (var handler in handlers.OfType<ApiHandler>()) handler.Log = handlerLog;
        // Without an exporter nothing reads the request metrics, so the handlers are not wrapped at all.
        dispatcher = new RequestDispatcher(handlers, _metricsEndpoint is null && !Metrics.ExportedByHost ? null : _metrics);
        StartLogScheduler();
        foreach (var listener in _listeners)
        {
            listener.StartAccepting(dispatcher);
            _log.LogInformation("Listener {Name} on {Endpoint}", listener.Name, listener.Endpoint);
        }
        Metrics.Serving = true;
        _log.LogInformation("Broker {Id} of cluster {ClusterId} started: {Partitions} partitions in {Dirs}",
            _options.BrokerId, clusterId, _replicas.Partitions.Count, string.Join(", ", _options.LogDirs));
    }

    /// <summary>
    /// This broker as it registers in /brokers/ids: every advertised listener (port 0 resolved to the bound port), its
    /// security protocols, and as host/port the first advertised listener (what the single-listener code paths use).
    /// </summary>
    private BrokerInfo SelfAsAdvertised()
    {
        var endpoints = _options.ResolveAdvertisedListeners(PortOf);
        var first = endpoints[0];
        var protocols = endpoints.ToDictionary(e => e.Name, e => _options.ListenerSecurityProtocolMap.GetValueOrDefault(e.Name, e.Name), StringComparer.Ordinal);
        return new BrokerInfo(_options.BrokerId, first.Host, first.Port, _options.Rack) { Endpoints = endpoints, SecurityProtocols = protocols };
    }

    /// <summary>Connects to Keeper, re-attaching to the session a crashed predecessor left (see <see cref="KeeperSessionFile"/>).</summary>
    private async Task<KeeperClient> ConnectKeeperAsync(string firstDir, CancellationToken ct)
    {
        var options = _keeperOptions = new KeeperClientOptions
        {
            SessionTimeout = TimeSpan.FromMilliseconds(_options.ZooKeeperSessionTimeoutMs),
            ConnectTimeout = TimeSpan.FromMilliseconds(_options.ZooKeeperConnectionTimeoutMs),
            Logger = _loggers.CreateLogger("Quill.Broker.KeeperClient"),
        };
        await EnsureChrootAsync(options, ct);
        KeeperClient? client = null;
        if (KeeperSessionFile.Read(firstDir) is { } saved)
        {
            try
            {
                client = await KeeperClient.ConnectAsync(_options.ZooKeeperConnect,
                    options with { SessionId = saved.SessionId, SessionPassword = saved.Password }, ct);
                _log.LogInformation("Re-attached to Keeper session 0x{Session:x}", saved.SessionId);
            }
            catch (Quill.Keeper.Protocol.KeeperException e) when (e.Code == Quill.Keeper.Protocol.ErrorCode.SessionExpired)
            {
                _log.LogInformation("The previous Keeper session 0x{Session:x} has expired; starting a new one", saved.SessionId);
            }
        }
        try
        {
            client ??= await KeeperClient.ConnectAsync(_options.ZooKeeperConnect, options, ct);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out waiting for connection to Keeper/ZooKeeper at {_options.ZooKeeperConnect} " +
                                       $"(zookeeper.connection.timeout.ms={_options.ZooKeeperConnectionTimeoutMs})");
        }
        KeeperSessionFile.Write(firstDir, client.SessionId, client.SessionPassword);
        client.StateChanged += OnKeeperState;
        return client;
    }

    private void OnKeeperState(object? sender, SessionState state)
    {
        if (state != SessionState.Expired || _stopping.IsCancellationRequested || !ReferenceEquals(sender, _zk?.Keeper)) return;
        _controller?.SessionExpired();
        _log.LogWarning("The Keeper session expired: this broker's registration is gone; starting a new session to register again");
        _ = Task.Run(RenewKeeperSessionAsync);
    }

    /// <summary>
    /// What Kafka does when its ZooKeeper session expires: make a new session, register again in /brokers/ids, and
    /// reload the metadata, standing for controller again (watches set on the old session are gone). Until that is done, requests are
    /// served from the metadata already cached. Retries until it works or the broker stops.
    /// </summary>
    private async Task RenewKeeperSessionAsync()
    {
        var ct = _stopping.Token;
        var delay = TimeSpan.FromMilliseconds(500);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var client = await KeeperClient.ConnectAsync(_options.ZooKeeperConnect, _keeperOptions!, ct);
                KeeperSessionFile.Write(_options.LogDirs[0], client.SessionId, client.SessionPassword);
                client.StateChanged += OnKeeperState;
                var old = _zk!.UseSession(client);
                _ = old.DisposeAsync().AsTask();
                await _zk.RegisterBrokerAsync(Services.Self, _staleWait, ct);
                await _controller!.ResumeAsync(ct);
                _log.LogInformation("Registered again in Keeper with session 0x{Session:x}", client.SessionId);
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _log.LogWarning("Could not register again in Keeper yet ({Reason}); retrying in {Delay} ms", e.Message, delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 10_000));
            }
        }
    }

    /// <summary>
    /// Starts the group coordinator on the partitions of <c>__consumer_offsets</c> this broker leads: it coordinates
    /// the groups of those, and loads or unloads a partition's groups as its leadership comes and goes. The topic is
    /// created here if enough brokers are up for its replication factor, else at the first FindCoordinator once they
    /// are (<see cref="BrokerServices.EnsureOffsetsTopicAsync"/>).
    /// </summary>
    private async Task<GroupCoordinator> StartGroupCoordinatorAsync(CancellationToken ct)
    {
        await Services.EnsureOffsetsTopicAsync(ct);
        int partitionCount = Services.Metadata.GetTopic(OffsetsTopic.Name)?.Partitions.Count ?? _options.OffsetsTopicNumPartitions;
        var replicas = _replicas!;
        var groups = new GroupCoordinator(new PartitionOffsetsLog(partitionCount, p => replicas.Get(OffsetsTopic.Name, p), _time, OffsetsTopic.CommitTimeout),
            new GroupCoordinatorOptions
            {
                InitialRebalanceDelayMs = _options.GroupInitialRebalanceDelayMs,
                MinSessionTimeoutMs = _options.GroupMinSessionTimeoutMs,
                MaxSessionTimeoutMs = _options.GroupMaxSessionTimeoutMs,
                OffsetsRetentionMs = _options.OffsetsRetentionMinutes * 60_000L,
            }, _time, _loggers.CreateLogger("Quill.Broker.Groups"));
        // Subscribed before the start reads which partitions are here, so no change falls between the two.
        _controller!.LeadershipChanged += (name, partition, leading) =>
        {
            if (name != OffsetsTopic.Name || partition >= partitionCount) return;
            var change = leading ? groups.LoadShardAsync(partition) : groups.UnloadShardAsync(partition);
            change.ContinueWith(t => _log.LogError(t.Exception, "Moving the groups of {Topic}-{Partition} failed", name, partition),
                TaskContinuationOptions.OnlyOnFaulted);
        };
        await groups.StartAsync(p => replicas.Get(OffsetsTopic.Name, p) is not null);
        return groups;
    }

    /// <summary>zookeeper.connect may end in a chroot ("host:port/kafka"); like Kafka, create it if it is missing.</summary>
    private async Task EnsureChrootAsync(KeeperClientOptions options, CancellationToken ct)
    {
        string connect = _options.ZooKeeperConnect;
        int slash = connect.IndexOf('/');
        if (slash < 0 || slash == connect.Length - 1) return;
        await using var root = await KeeperClient.ConnectAsync(connect[..slash], options with { SessionTimeout = TimeSpan.FromSeconds(10) }, ct);
        await root.EnsurePathAsync(connect[slash..], ct);
    }

    /// <summary>The periodic log work, each job on its own interval (none waits behind another).</summary>
    private void StartLogScheduler()
    {
        var scheduler = _logScheduler = new Log.LogScheduler(_time, _loggers.CreateLogger("Quill.Broker.LogScheduler"));
        scheduler.Schedule("Log retention check", _options.RetentionCheckIntervalMs, _replicas!.RunMaintenance);
        scheduler.Schedule("Log flush", _options.FlushSchedulerIntervalMs, _replicas.FlushDue);
        scheduler.Schedule("Recovery point checkpoint", _options.FlushCheckpointIntervalMs, _replicas.Checkpoint);
        scheduler.Schedule("Log cleaner", _options.LogCleanerBackoffMs, _replicas.CleanLogs);
        scheduler.Start();
    }

    /// <summary>
    /// Clean shutdown: a controlled shutdown first (controlled.shutdown.enable: the controller moves this broker's
    /// leaderships to other ISR members while it still serves, so clients move on before it goes), then stop serving,
    /// flush and close every log, close the Keeper session (its ephemerals go at once).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        if (Metrics.Serving && _options.ControlledShutdownEnable && _controller is not null && _fetchers is not null)
        {
            // Following stops first, so that no leader takes this broker back into an ISR it is leaving.
            await _fetchers.DisposeAsync();
            await ControlledShutdown.RunAsync(_controller, Services.Metadata, _options, _time, _log);
        }
        Metrics.Serving = false;
        _stopping.Cancel();
        if (_logScheduler is not null) await _logScheduler.DisposeAsync();
        foreach (var listener in _listeners) await listener.DisposeAsync();
        if (Services?.Transactions is { } transactions) await transactions.DisposeAsync();
        if (Services?.Groups is { } groups) await groups.DisposeAsync();
        if (_fetchers is not null) await _fetchers.DisposeAsync();
        if (_isr is not null) await _isr.DisposeAsync();
        if (_controller is not null) await _controller.DisposeAsync();
        _replicas?.Dispose();
        if (_zk is not null)
        {
            await _zk.Keeper.CloseAsync();
            KeeperSessionFile.Delete(_options.LogDirs[0]);
        }
        if (_metricsEndpoint is not null) await _metricsEndpoint.DisposeAsync();
        _metrics.Dispose();
        _log.LogInformation("Broker {Id} stopped", _options.BrokerId);
    }
}
