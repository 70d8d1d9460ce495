namespace Quill.Broker.Metadata;

/// <summary>
/// What the request handlers read about the cluster: the brokers, the cluster id, the controller and every topic by
/// name and by id. An immutable snapshot replaced as a whole on each change, so readers take no lock and never see
/// a half-applied change. Written only by the <see cref="Controller"/>.
/// </summary>
public sealed class MetadataCache
{
    private Snapshot _current = new([], [], [], "", -1);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Snapshot Current
    {
        get => Volatile.Read(ref _current);
        set
        {
            Volatile.Write(ref _current, value);
            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>Completes at the next change (for a caller waiting for something the controller will write).</summary>
    public Task WhenChanged => Volatile.Read(ref _changed).Task;

    private sealed record Snapshot(
        Dictionary<string, TopicInfo> ByName,
        Dictionary<Guid, TopicInfo> ById,
        IReadOnlyList<BrokerInfo> Brokers,
        string ClusterId,
        int ControllerId);

    public string ClusterId => Current.ClusterId;
    public int ControllerId => Current.ControllerId;
    public IReadOnlyList<BrokerInfo> Brokers => Current.Brokers;
    public IReadOnlyCollection<TopicInfo> Topics => Current.ByName.Values;

    public TopicInfo? GetTopic(string name) => Current.ByName.GetValueOrDefault(name);
    public TopicInfo? GetTopic(Guid id) => Current.ById.GetValueOrDefault(id);

    public PartitionInfo? GetPartition(string topic, int partition) =>
        GetTopic(topic) is { } t && (uint)partition < (uint)t.Partitions.Count ? t.Partitions[partition] : null;

    internal void SetCluster(string clusterId, int controllerId, IReadOnlyList<BrokerInfo> brokers)
    {
        var s = Current;
        Current = s with { ClusterId = clusterId, ControllerId = controllerId, Brokers = brokers };
    }

    internal void SetBrokers(IReadOnlyList<BrokerInfo> brokers) => Current = Current with { Brokers = brokers };

    internal void SetController(int controllerId) => Current = Current with { ControllerId = controllerId };

    /// <summary>inter.broker.listener.name: the listener brokers reach each other on (set by the broker at start).</summary>
    public string InterBrokerListenerName { get; init; } = Config.ListenerConfig.Plaintext;

    /// <summary>control.plane.listener.name, or null: the controller then reaches brokers on the inter-broker listener.</summary>
    public string? ControlPlaneListenerName { get; init; }

    /// <summary>
    /// THE address of another broker for broker-to-broker traffic (replica fetchers, transaction markers, controlled
    /// shutdown, coordinator forwarding): its registered endpoint on inter.broker.listener.name. Null when the broker
    /// is not registered, or registered without that listener (Kafka's BrokerEndPointNotAvailableException).
    /// </summary>
    public Config.ListenerEndpoint? InterBrokerEndpoint(int brokerId) =>
        Current.Brokers.FirstOrDefault(b => b.Id == brokerId)?.EndpointFor(InterBrokerListenerName);

    /// <summary>
    /// The address the controller sends its requests to a broker on (LeaderAndIsr, UpdateMetadata, StopReplica): its
    /// control.plane.listener.name endpoint when that is set, else <see cref="InterBrokerEndpoint"/>, as Kafka's
    /// ControllerChannelManager picks it.
    /// </summary>
    public Config.ListenerEndpoint? ControllerToBrokerEndpoint(int brokerId) =>
        ControlPlaneListenerName is { } controlPlane
            ? Current.Brokers.FirstOrDefault(b => b.Id == brokerId)?.EndpointFor(controlPlane)
            : InterBrokerEndpoint(brokerId);

    /// <summary>Whether a broker is registered in /brokers/ids.</summary>
    public bool IsLive(int brokerId) => Current.Brokers.Any(b => b.Id == brokerId);

    internal void Put(TopicInfo topic)
    {
        var s = Current;
        var byName = new Dictionary<string, TopicInfo>(s.ByName, StringComparer.Ordinal) { [topic.Name] = topic };
        var byId = new Dictionary<Guid, TopicInfo>(s.ById);
        if (s.ByName.TryGetValue(topic.Name, out var old)) byId.Remove(old.Id);
        byId[topic.Id] = topic;
        Current = s with { ByName = byName, ById = byId };
    }

    internal void Remove(string name)
    {
        var s = Current;
        if (!s.ByName.TryGetValue(name, out var old)) return;
        var byName = new Dictionary<string, TopicInfo>(s.ByName, StringComparer.Ordinal);
        byName.Remove(name);
        var byId = new Dictionary<Guid, TopicInfo>(s.ById);
        byId.Remove(old.Id);
        Current = s with { ByName = byName, ById = byId };
    }
}
