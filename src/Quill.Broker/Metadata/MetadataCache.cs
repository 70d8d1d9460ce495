namespace Quill.Broker.Metadata;

/// <summary>
/// What the request handlers read about the cluster: the brokers, the cluster id, the controller and every topic by
/// name and by id. An immutable snapshot replaced as a whole on each change, so readers take no lock and never see
/// a half-applied change. Written only by the <see cref="Controller"/>.
/// </summary>
public sealed class MetadataCache
{
    private volatile Snapshot _snapshot = new([], [], [], "", -1);

    private sealed record Snapshot(
        Dictionary<string, TopicInfo> ByName,
        Dictionary<Guid, TopicInfo> ById,
        IReadOnlyList<BrokerInfo> Brokers,
        string ClusterId,
        int ControllerId);

    public string ClusterId => _snapshot.ClusterId;
    public int ControllerId => _snapshot.ControllerId;
    public IReadOnlyList<BrokerInfo> Brokers => _snapshot.Brokers;
    public IReadOnlyCollection<TopicInfo> Topics => _snapshot.ByName.Values;

    public TopicInfo? GetTopic(string name) => _snapshot.ByName.GetValueOrDefault(name);
    public TopicInfo? GetTopic(Guid id) => _snapshot.ById.GetValueOrDefault(id);

    public PartitionInfo? GetPartition(string topic, int partition) =>
        GetTopic(topic) is { } t && (uint)partition < (uint)t.Partitions.Count ? t.Partitions[partition] : null;

    internal void SetCluster(string clusterId, int controllerId, IReadOnlyList<BrokerInfo> brokers)
    {
        var s = _snapshot;
        _snapshot = s with { ClusterId = clusterId, ControllerId = controllerId, Brokers = brokers };
    }

    internal void SetBrokers(IReadOnlyList<BrokerInfo> brokers) => _snapshot = _snapshot with { Brokers = brokers };

    internal void Put(TopicInfo topic)
    {
        var s = _snapshot;
        var byName = new Dictionary<string, TopicInfo>(s.ByName, StringComparer.Ordinal) { [topic.Name] = topic };
        var byId = new Dictionary<Guid, TopicInfo>(s.ById);
        if (s.ByName.TryGetValue(topic.Name, out var old)) byId.Remove(old.Id);
        byId[topic.Id] = topic;
        _snapshot = s with { ByName = byName, ById = byId };
    }

    internal void Remove(string name)
    {
        var s = _snapshot;
        if (!s.ByName.TryGetValue(name, out var old)) return;
        var byName = new Dictionary<string, TopicInfo>(s.ByName, StringComparer.Ordinal);
        byName.Remove(name);
        var byId = new Dictionary<Guid, TopicInfo>(s.ById);
        byId.Remove(old.Id);
        _snapshot = s with { ByName = byName, ById = byId };
    }
}
