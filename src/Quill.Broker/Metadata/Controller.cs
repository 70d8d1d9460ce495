using Microsoft.Extensions.Logging;
using Quill.Broker.Config;
using Quill.Broker.Log;
using Quill.Broker.Partitions;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Broker.Metadata;

/// <summary>A metadata change refused with one of Kafka's error codes, or done (<see cref="Kafka.Protocol.KafkaError.None"/>).</summary>
public readonly record struct AdminResult(Kafka.Protocol.KafkaError Error, string? Message = null)
{
    public static AdminResult Ok => new(Kafka.Protocol.KafkaError.None);
    public bool IsOk => Error == Kafka.Protocol.KafkaError.None;
}

/// <summary>
/// The metadata side of a broker (Kafka's KafkaController in ZooKeeper mode, with the metadata cache it feeds). Every
/// broker follows Keeper: the registered brokers (/brokers/ids), who the controller is (/controller), every topic and
/// every partition's state, through watches, into the <see cref="MetadataCache"/>; and it leads the partitions whose
/// state names it leader and follows the others it holds a replica of. One broker is also the controller, elected through the
/// ephemeral /controller, /controller_epoch bumped by a conditional update on each election. Only the controller
/// changes metadata (topic creation, deletion, new partitions, leader elections when brokers come and go), each write
/// fenced by the version of /controller_epoch it set, so a controller that was replaced cannot write any more
/// (<see cref="ControllerMovedException"/>). When the controller's session ends, /controller goes, every broker's
/// watch fires and one of them takes over, reloading everything from Keeper. Changes made by other tools directly in
/// Keeper (a topic node created or given more partitions, a /admin/delete_topics marker, a config change
/// notification) are picked up through the same watches. When this broker's Keeper session expires,
/// <see cref="ResumeAsync"/> takes the new session and reloads everything.
/// <para>
/// Every change runs on the controller's <see cref="EventLoop"/> (Kafka's ControllerEventManager): admin requests and
/// the events Keeper's watches post are handled one at a time, in the order they arrived, and methods named
/// <c>...OnLoop</c> only run there. A failed event is logged; the next one runs.
/// </para>
/// </summary>
public sealed partial class Controller : IAsyncDisposable
{
    private readonly KafkaZkClient _zk;
    private readonly MetadataCache _cache;
    private readonly ReplicaManager _replicas;
    private readonly BrokerOptions _options;
    private readonly DynamicBrokerConfig _dynamicConfig;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly EventLoop _events;
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _active;
    private int _controllerEpoch;
    /// <summary>The version of /controller_epoch this controller set: every controller write checks it.</summary>
    private int _epochZkVersion;
    public Metrics.BrokerMetrics? Metrics { get; init; }

    public Controller(KafkaZkClient zk, MetadataCache cache, ReplicaManager replicas, BrokerOptions options,
        DynamicBrokerConfig dynamicConfig, TimeProvider time, ILogger log)
    {
        _time = time;
        _dynamicConfig = dynamicConfig;
        _zk = zk;
        _cache = cache;
        _replicas = replicas;
        _options = options;
        _log = log;
        _events = new EventLoop("controller", log);
    }

    private int BrokerId => _options.BrokerId;

    /// <summary>Whether this broker is the active controller.</summary>
    public bool IsActive => _active;

    /// <summary>
    /// This broker started (true) or stopped (false) leading a partition: raised on the controller's loop, after the
    /// partition's log is opened or before it stops being served. Handlers must not block.
    /// </summary>
    public event Action<string, int, bool>? LeadershipChanged;

    /// <summary>The log settings of a topic: the broker defaults with its overrides (used for logs found on disk at start).</summary>
    public LogConfig LogConfigFor(string topic) =>
        _cache.GetTopic(topic) is { } t ? TopicConfigs.ToLogConfig(_options.LogDefaults, t.Configs) : _options.LogDefaults;

    /// <summary>
    /// Loads the brokers and every topic from Keeper, opens the partitions this broker leads, stands for controller,
    /// and waits (up to <paramref name="waitForController"/>: a dead controller's session may still hold /controller)
    /// until the cluster has a controller, so that what the broker does next (its internal topics) can be done.
    /// </summary>
    public async Task StartAsync(string clusterId, TimeSpan waitForController, CancellationToken ct)
    {
        await LoadEverythingAsync(clusterId, ct);
        StartPropagation();
        CleanStrayLogs();
        StartLeaderRebalance();
        var deadline = _time.GetUtcNow() + waitForController;
        bool logged = false;
        while (true)
        {
            var changed = _cache.WhenChanged;
            if (_cache.ControllerId >= 0) return;
            var left = deadline - _time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                _log.LogWarning("No controller was elected within {Seconds:F0}s; starting without one", waitForController.TotalSeconds);
                return;
            }
            if (!logged)
            {
                _log.LogInformation("Waiting up to {Seconds:F0}s for a controller (/controller is held by a session that has not expired yet)", left.TotalSeconds);
                logged = true;
            }
            try
            {
                await changed.WaitAsync(left, _time, ct);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>The Keeper session expired: this broker is no longer the controller (its /controller is gone).</summary>
    public void SessionExpired()
    {
        if (_active) _log.LogWarning("The Keeper session expired: broker {Id} stops acting as controller", BrokerId);
        _active = false;
    }

    /// <summary>
    /// After the Keeper session expired and a new one was made (this broker registered again): reloads every broker,
    /// topic and config, since changes made meanwhile fired no watch on the old session, and stands for controller
    /// again. Topics that are gone from Keeper are dropped; the others keep their open logs.
    /// </summary>
    public Task ResumeAsync(CancellationToken ct) => LoadEverythingAsync(_cache.ClusterId, ct);

    private Task LoadEverythingAsync(string clusterId, CancellationToken ct) =>
        _events.RunAsync(async () =>
        {
            _active = false;
            _cache.SetCluster(clusterId, _cache.ControllerId, await _zk.GetBrokersAsync(OnBrokersChanged, ct));
            await WatchConfigChangesOnLoopAsync(ct);
            await ReloadBrokerConfigsOnLoopAsync(ct);
            await LoadTopicsOnLoopAsync(ct);
            await ElectControllerOnLoopAsync(ct);
        });

    /// <summary>Reads every topic (and drops the ones that are gone), watching the list.</summary>
    private async Task LoadTopicsOnLoopAsync(CancellationToken ct)
    {
        var names = await _zk.GetTopicNamesAsync(OnTopicsChanged, ct);
        foreach (string topic in names) await LoadTopicOnLoopAsync(topic, ct);
        foreach (var gone in _cache.Topics.Where(t => !names.Contains(t.Name)).ToList()) DropTopicOnLoop(gone.Name);
    }

    /// <summary>
    /// Stands for controller: creates /controller if nobody holds it, then reads who does (watching it, so that its
    /// end starts the next election). Winning starts <see cref="BecomeControllerOnLoopAsync"/>; losing it while
    /// active stops this broker acting as controller.
    /// </summary>
    private async Task ElectControllerOnLoopAsync(CancellationToken ct)
    {
        while (true)
        {
            await _zk.TryCreateControllerAsync(BrokerId, ct);
            if (await _zk.GetControllerAsync(OnControllerChanged, ct) is not { } holder) continue;
            if (holder.Owner == _zk.Keeper.SessionId)
            {
                if (!_active) await BecomeControllerOnLoopAsync(ct);
                return;
            }
            if (_active) _log.LogWarning("Broker {Id} is no longer the controller; broker {Other} is", BrokerId, holder.BrokerId);
            _active = false;
            if (_cache.ControllerId != holder.BrokerId) _log.LogInformation("The controller is broker {Id}", holder.BrokerId);
            _cache.SetController(holder.BrokerId);
            return;
        }
    }

    /// <summary>
    /// Kafka's controller failover: bump the controller epoch, read everything again (another controller may have
    /// changed states since this broker last read them), elect leaders where needed, finish pending deletions.
    /// </summary>
    private async Task BecomeControllerOnLoopAsync(CancellationToken ct)
    {
        (_controllerEpoch, _epochZkVersion) = await _zk.IncrementControllerEpochAsync(ct);
        _active = true;
        StartChannelOnLoop();
        _cache.SetController(BrokerId);
        _log.LogInformation("Broker {Id} is the controller (epoch {Epoch})", BrokerId, _controllerEpoch);
        _cache.SetBrokers(await _zk.GetBrokersAsync(OnBrokersChanged, ct));
        await LoadTopicsOnLoopAsync(ct);
        foreach (string topic in await _zk.GetTopicsMarkedForDeletionAsync(OnDeletionsChanged, ct)) await DeleteTopicOnLoopAsync(topic, ct);
    }

    /// <summary>
    /// Reads a topic from Keeper into the cache (watching its node for new partitions and each partition's state),
    /// and serves the partitions this broker leads. The controller also gives it a topic id if an older tool wrote it
    /// without one, and elects leaders where a partition has none or a dead one. Loading a topic already known
    /// refreshes it.
    /// </summary>
    private async Task LoadTopicOnLoopAsync(string name, CancellationToken ct)
    {
        if (await _zk.ReadTopicAsync(name, OnTopicChanged, OnPartitionStateChanged, ct) is not { } read)
        {
            DropTopicOnLoop(name);
            return;
        }
        var (id, assignment, states, configs, (adding, removing)) = read;
        if (id is null)
        {
            // The controller gives it one; the node changes then and every broker loads it again.
            if (!_active) return;
            id = ZkData.NewTopicId();
            await _zk.SetTopicAssignmentAsync(name, id.Value, assignment, ct);
        }
        if (_cache.GetTopic(name) is { } known && known.Id != id)
        {
            // Deleted and created again while this broker was not watching: the old topic's logs are not this one's.
            DropTopicOnLoop(name);
        }
        var partitions = assignment.Select(a => new PartitionInfo(a.Key, a.Value, states.GetValueOrDefault(a.Key) ?? PartitionState.None)
        {
            AddingReplicas = adding.GetValueOrDefault(a.Key) ?? [],
            RemovingReplicas = removing.GetValueOrDefault(a.Key) ?? [],
        }).ToList();
        var topic = new TopicInfo(name, id.Value, partitions, configs);
        _cache.Put(topic);
        ServeLocalPartitionsOnLoop(topic);
        _replicas.UpdateConfig(name, TopicConfigs.ToLogConfig(_options.LogDefaults, configs));
        if (!_active) return;
        await ElectLeadersOnLoopAsync(topic, ct);
        // A controller taking over carries on with the reassignments its predecessor started.
        foreach (var p in topic.Partitions.Where(p => p.IsReassigning)) await TryFinishReassignmentOnLoopAsync(name, p.Index, ct);
    }

    /// <summary>
    /// The controller's elections for one topic (see <see cref="LeaderElection"/>), each state written fenced. A
    /// partition that needs one is read again first and written only if its state node is still at that version: its
    /// leader may have just shrunk the ISR, and electing from an older ISR could pick a replica that is behind.
    /// </summary>
    private async Task ElectLeadersOnLoopAsync(TopicInfo topic, CancellationToken ct)
    {
        var live = EligibleBrokerIds();
        bool unclean = topic.Configs.TryGetValue("unclean.leader.election.enable", out string? setting)
            ? string.Equals(setting, "true", StringComparison.OrdinalIgnoreCase) : _options.UncleanLeaderElectionEnable;
        foreach (var p in topic.Partitions)
        {
            if (LeaderElection.Elect(p.Replicas, p.State, live, _controllerEpoch, unclean) is null) continue;
            for (int attempt = 0; ; attempt++)
            {
                var current = p.State.IsWritten ? await _zk.ReadPartitionStateAsync(topic.Name, p.Index, null, ct) ?? p.State : p.State;
                if (LeaderElection.Elect(p.Replicas, current, live, _controllerEpoch, unclean) is not { } elected) break;
                try
                {
                    await _zk.SetPartitionStateAsync(topic.Name, p.Index, elected, _epochZkVersion, ct, current.ZkVersion);
                }
                catch (KeeperException e) when (e.Code == ErrorCode.BadVersion && attempt < 5)
                {
                    continue; // the leader changed the ISR meanwhile: decide again on what it wrote
                }
                if (current.IsWritten)
                    _log.LogInformation("{Topic}-{Partition}: leader {Old} is gone, {Outcome} (leader epoch {Epoch}, ISR [{Isr}])", topic.Name, p.Index,
                        current.Leader, elected.Leader < 0 ? "no in-sync replica is live: offline"
                            : current.Isr.Length > 0 && !current.Isr.Contains(elected.Leader) ? $"elected {elected.Leader} from outside the ISR (unclean)"
                            : $"elected {elected.Leader}", elected.LeaderEpoch,
                        string.Join(",", elected.Isr));
                SetPartitionStateOnLoop(topic.Name, p.Index, elected with { ZkVersion = current.ZkVersion >= 0 ? current.ZkVersion + 1 : 0 });
                break;
            }
        }
    }

    /// <summary>Puts a partition's new state in the cache and serves or stops serving it here accordingly.</summary>
    private void SetPartitionStateOnLoop(string name, int index, PartitionState state)
    {
        if (_cache.GetTopic(name) is not { } topic || index >= topic.Partitions.Count) return;
        // The controller's LeaderAndIsr/UpdateMetadata may have brought a newer state already: never go back.
        var held = topic.Partitions[index].State;
        if (held.IsWritten && state.IsWritten &&
            ControllerRequestCheck.Compare(state.LeaderEpoch, state.ZkVersion, held.LeaderEpoch, held.ZkVersion) == ControllerRequestCheck.StateOrder.Older)
            return;
        var partitions = topic.Partitions.Select(p => p.Index == index ? p with { State = state } : p).ToList();
        var updated = topic with { Partitions = partitions };
        _cache.Put(updated);
        ServeLocalPartition(updated, updated.Partitions[index]);
    }

    private void ServeLocalPartitionsOnLoop(TopicInfo topic)
    {
        foreach (var p in topic.Partitions) ServeLocalPartition(topic, p);
    }

    /// <summary>
    /// Gives this broker's replica of a partition its role from the partition's state: the leader opens its log and
    /// serves it; a follower opens its log and fetches from the leader; a broker that holds no replica (any more) stops
    /// serving it (its log stays on disk).
    /// </summary>
    private void ServeLocalPartition(TopicInfo topic, PartitionInfo p)
    {
        bool served = _replicas.Get(topic.Name, p.Index) is not null;
        bool replica = p.Replicas.Contains(BrokerId);
        bool leads = p.State.Leader == BrokerId;
        if (!leads && served)
        {
            _log.LogInformation("{Topic}-{Partition}: broker {Id} no longer leads it (leader {Leader})", topic.Name, p.Index, BrokerId, p.State.Leader);
            LeadershipChanged?.Invoke(topic.Name, p.Index, false);
        }
        if (!leads && !replica)
        {
            // Reassigned away: the replica goes with its log, as Kafka's StopReplica with deletion does.
            if (_replicas.GetHosted(topic.Name, p.Index) is not null)
            {
                _log.LogInformation("{Topic}-{Partition}: broker {Id} is no longer a replica (replicas [{Replicas}]); deleting its log",
                    topic.Name, p.Index, BrokerId, string.Join(",", p.Replicas));
                _replicas.Delete(topic.Name, p.Index);
            }
            return;
        }
        if (!leads && !p.State.IsWritten) return;
        if (_replicas.GetHosted(topic.Name, p.Index) is null)
        {
            // A log of an older topic of the same name (deleted while this broker was away) is not this topic's.
            var stale = _replicas.AllLogs.FirstOrDefault(l => l.Topic == topic.Name && l.Partition == p.Index);
            if (stale is not null && PartitionMetadataFile.Read(stale.Dir) is { } recorded && recorded != topic.Id)
            {
                _log.LogWarning("{Dir} belongs to an older topic {Topic} (id {Old}, now {New}); deleting it",
                    stale.Dir, topic.Name, ZkData.TopicIdText(recorded), ZkData.TopicIdText(topic.Id));
                _replicas.Delete(topic.Name, p.Index);
            }
        }
        var config = TopicConfigs.ToLogConfig(_options.LogDefaults, topic.Configs);
        if (!leads)
        {
            _replicas.MakeFollower(topic.Name, p.Index, topic.Id, BrokerId, p.State.Leader, p.State.LeaderEpoch, p.Replicas, p.State.Isr,
                p.State.ZkVersion, config);
            return;
        }
        _replicas.MakeLeader(topic.Name, p.Index, topic.Id, BrokerId, p.State.LeaderEpoch, p.Replicas, p.State.Isr, p.State.ZkVersion, config);
        if (!served) LeadershipChanged?.Invoke(topic.Name, p.Index, true);
    }

    /// <summary>Logs on disk that no topic in Keeper claims are left alone (never deleted on a guess), but reported.</summary>
    private void CleanStrayLogs()
    {
        foreach (var log in _replicas.AllLogs)
            if (_cache.GetPartition(log.Topic, log.Partition) is null)
                _log.LogWarning("{Dir} holds a partition that no topic in Keeper has; it is not served", log.Dir);
    }

    private void DropTopicOnLoop(string name)
    {
        if (_cache.GetTopic(name) is not { } topic) return;
        _cache.Remove(name);
        foreach (var p in topic.Partitions)
        {
            if (_replicas.Get(name, p.Index) is not null) LeadershipChanged?.Invoke(name, p.Index, false);
            _replicas.Delete(name, p.Index);
        }
        _log.LogInformation("Topic {Topic} was deleted", name);
    }

    // ---- watches: changes made by others directly in Keeper ----

    /// <summary>/controller changed or went: stand for controller (again).</summary>
    private void OnControllerChanged(WatchedEvent e)
    {
        if (e.Type != EventType.None) RunWatchWork(ElectControllerOnLoopAsync);
    }

    /// <summary>A broker came or went: every broker updates its list; the controller elects leaders where needed.</summary>
    private void OnBrokersChanged(WatchedEvent e)
    {
        if (e.Type == EventType.None) return;
        RunWatchWork(async ct =>
        {
            var before = _cache.Brokers.Select(b => b.Id).ToHashSet();
            var brokers = await _zk.GetBrokersAsync(OnBrokersChanged, ct);
            _cache.SetBrokers(brokers);
            var now = brokers.Select(b => b.Id).ToHashSet();
            foreach (int id in now.Except(before)) _log.LogInformation("Broker {Id} joined the cluster", id);
            foreach (int id in before.Except(now)) _log.LogInformation("Broker {Id} left the cluster", id);
            ForgetStoppedBrokersOnLoop();
            if (!_active) return;
            using var timing = Metrics?.TimeLeaderElection();
            foreach (var topic in _cache.Topics.ToList()) await ElectLeadersOnLoopAsync(topic, ct);
        });
    }

    /// <summary>A partition's state changed (the controller elected a leader): cache it, and serve the partition here or stop.</summary>
    private void OnPartitionStateChanged(WatchedEvent e)
    {
        if (e.Type == EventType.None || e.Path is null) return;
        // /brokers/topics/T/partitions/P/state
        var parts = e.Path[(ZkPaths.BrokerTopics.Length + 1)..].Split('/');
        if (parts.Length != 4 || !int.TryParse(parts[2], out int index)) return;
        string name = parts[0];
        // A deleted state node (its topic is being deleted) is not watched for a re-creation that may never come.
        var watcher = e.Type == EventType.NodeDeleted ? null : (Action<WatchedEvent>)OnPartitionStateChanged;
        RunWatchWork(async ct =>
        {
            var state = await _zk.ReadPartitionStateAsync(name, index, watcher, ct);
            // quill.partition.state.watches=false: a broker that is not the controller learns states only from the
            // controller's requests (the watch stays set, so that it works at once if this broker becomes controller).
            if (!_active && !_options.PartitionStateWatches) return;
            if (_cache.GetPartition(name, index) is not { } partition) return;
            SetPartitionStateOnLoop(name, index, state ?? PartitionState.None);
            // The ISR grew (an added replica caught up): a reassignment may be able to finish.
            if (_active && partition.IsReassigning) await TryFinishReassignmentOnLoopAsync(name, index, ct);
        });
    }

    private void OnTopicsChanged(WatchedEvent e) => RunWatchWork(e, async ct =>
    {
        var names = await _zk.GetTopicNamesAsync(OnTopicsChanged, ct);
        var known = _cache.Topics.Select(t => t.Name).ToHashSet();
        foreach (string name in names.Where(n => !known.Contains(n))) await LoadTopicOnLoopAsync(name, ct);
        foreach (string name in known.Where(n => !names.Contains(n))) DropTopicOnLoop(name);
    });

    /// <summary>A topic's node changed (e.g. a tool wrote more partitions into it): load it again.</summary>
    private void OnTopicChanged(WatchedEvent e)
    {
        if (e.Type != EventType.NodeDataChanged || e.Path is null) return;
        string name = e.Path[(ZkPaths.BrokerTopics.Length + 1)..];
        RunWatchWork(ct => LoadTopicOnLoopAsync(name, ct));
    }

    private void OnDeletionsChanged(WatchedEvent e) => RunWatchWork(e, async ct =>
    {
        if (!_active) return;
        foreach (string topic in await _zk.GetTopicsMarkedForDeletionAsync(OnDeletionsChanged, ct))
            await DeleteTopicOnLoopAsync(topic, ct);
    });

    /// <summary>
    /// A watch fired: its work is posted to the loop and runs after every change already queued, so watches are
    /// handled in the order they fired (the callback itself must not block the Keeper client's event stream).
    /// </summary>
    private void RunWatchWork(WatchedEvent e, Func<CancellationToken, Task> work)
    {
        // Session events (disconnected, expired) reach every watcher too; they change no node.
        if (e.Type != EventType.None) RunWatchWork(work);
    }

    private void RunWatchWork(Func<CancellationToken, Task> work)
    {
        if (_stop.IsCancellationRequested) return;
        _events.Post(async () =>
        {
            try
            {
                await work(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (ControllerMovedException)
            {
                OnControllerMovedOnLoop();
            }
            catch (KeeperException e) when (e.Code is ErrorCode.SessionExpired or ErrorCode.ConnectionLoss)
            {
                _log.LogWarning("Keeper unavailable while applying a metadata change: {Reason}", e.Message);
            }
            catch (Exception e)
            {
                _log.LogError(e, "Applying a metadata change from Keeper failed");
            }
        });
    }

    /// <summary>A fenced write failed: another broker is the controller now; learn which, and stop acting as one.</summary>
    private void OnControllerMovedOnLoop()
    {
        _log.LogWarning("Broker {Id} is no longer the controller: another broker was elected (controller epoch moved past {Epoch})", BrokerId, _controllerEpoch);
        _active = false;
        RunWatchWork(ElectControllerOnLoopAsync);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_rebalance is not null) await _rebalance.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_propagation is not null) await _propagation.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        // Let a change in progress finish so Keeper and the logs agree; events still queued see the stop and end.
        try
        {
            await _events.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            _log.LogWarning("A metadata change was still running when the controller stopped");
        }
        if (_channel is { } channel) await channel.DisposeAsync();
        _stop.Dispose();
    }
}
