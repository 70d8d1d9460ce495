namespace Quill.Broker.Metadata;

/// <summary>
/// The state of one partition as the controller keeps it in <c>/brokers/topics/T/partitions/P/state</c>: its leader,
/// the leader's epoch (bumped on every leader change, stamped on every batch the leader appends), and the ISR.
/// </summary>
public sealed record PartitionState(int Leader, int LeaderEpoch, int[] Isr, int ControllerEpoch)
{
    /// <summary>A partition the controller has not written a state for yet (no leader, leader epoch -1).</summary>
    public static readonly PartitionState None = new(-1, -1, [], 0);

    /// <summary>The version of the state znode this was read from (-1 if not read from Keeper): ISR writes are conditional on it.</summary>
    public int ZkVersion { get; init; } = -1;

    /// <summary>False for <see cref="None"/>: a written state's leader epoch is never negative.</summary>
    public bool IsWritten => LeaderEpoch >= 0;
}

/// <summary>One partition: its index, its assigned replicas (the first is the preferred leader) and its state.</summary>
public sealed record PartitionInfo(int Index, int[] Replicas, PartitionState State)
{
    /// <summary>
    /// While a reassignment moves the partition (KIP-455): the replicas being added, which are already in
    /// <see cref="Replicas"/> and catching up, and those to be dropped once the added ones are in sync.
    /// </summary>
    public int[] AddingReplicas { get; init; } = [];

    public int[] RemovingReplicas { get; init; } = [];

    public bool IsReassigning => AddingReplicas.Length > 0 || RemovingReplicas.Length > 0;
}

/// <summary>A topic as Keeper describes it: name, topic id, partitions and its config overrides.</summary>
public sealed record TopicInfo(string Name, Guid Id, IReadOnlyList<PartitionInfo> Partitions, IReadOnlyDictionary<string, string> Configs)
{
    public const string ConsumerOffsetsTopic = "__consumer_offsets";
    public const string TransactionStateTopic = "__transaction_state";

    public bool IsInternal => Name is ConsumerOffsetsTopic or TransactionStateTopic;
    public short ReplicationFactor => (short)(Partitions.Count == 0 ? 0 : Partitions[0].Replicas.Length);
}

/// <summary>
/// A broker as registered in <c>/brokers/ids/N</c>. <see cref="Host"/>/<see cref="Port"/> are its PLAINTEXT endpoint
/// (else its first); <see cref="Endpoints"/> holds every advertised listener, by name.
/// </summary>
public sealed record BrokerInfo(int Id, string Host, int Port, string? Rack)
{
    /// <summary>Kafka's broker epoch: the zxid that created the registration (-1 when not read from Keeper), new on each registration.</summary>
    public long Epoch { get; init; } = -1;

    /// <summary>Every advertised listener (NAME, host, port); empty means one PLAINTEXT listener at <see cref="Host"/>:<see cref="Port"/>.</summary>
    public IReadOnlyList<Config.ListenerEndpoint> Endpoints { get; init; } = [];

    /// <summary>listener_security_protocol_map: each listener's security protocol (a listener missing here uses its own name).</summary>
    public IReadOnlyDictionary<string, string> SecurityProtocols { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The broker's endpoint on a listener, or null when it does not advertise that listener.</summary>
    public Config.ListenerEndpoint? EndpointFor(string listenerName) =>
        Endpoints.Count == 0
            ? listenerName == Config.ListenerConfig.Plaintext ? new Config.ListenerEndpoint(listenerName, Host, Port) : null
            : Endpoints.FirstOrDefault(e => e.Name == listenerName);

    /// <summary>This broker as seen on one listener (its host and port there), or null when it does not advertise it.</summary>
    public BrokerInfo? On(string listenerName) =>
        EndpointFor(listenerName) is { } endpoint ? this with { Host = endpoint.Host, Port = endpoint.Port } : null;
}
