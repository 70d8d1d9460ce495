using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Quill.Broker.Metadata;

/// <summary>
/// The JSON that Kafka's ZooKeeper mode keeps in each znode, written and read here so the data is what Kafka's own
/// tools would show: broker registrations, topic assignments (with the topic id), partition states, the controller,
/// topic configs, config change notifications, the cluster id and producer id blocks.
/// </summary>
public static class ZkData
{
    private static byte[] Bytes(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());

    private static JsonNode Parse(byte[] data, string what)
    {
        try
        {
            return JsonNode.Parse(data) ?? throw new InvalidDataException($"{what}: empty JSON");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what}: not valid JSON: {e.Message}");
        }
    }

    private static string Timestamp(TimeProvider time) => time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>A topic id as Kafka prints it: the 16 bytes, most significant first, in URL-safe base64 without padding.</summary>
    public static string TopicIdText(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static Guid ParseTopicId(string text)
    {
        string base64 = text.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
        var bytes = Convert.FromBase64String(base64);
        if (bytes.Length != 16) throw new InvalidDataException($"topic id '{text}' is not 16 bytes");
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>A new random topic id (never the zero id or one whose text starts with '-', as Kafka avoids).</summary>
    public static Guid NewTopicId()
    {
        while (true)
        {
            var id = Guid.NewGuid();
            if (id != Guid.Empty && !TopicIdText(id).StartsWith('-')) return id;
        }
    }

    /// <summary>
    /// /brokers/ids/N as Kafka 3.x writes it (version 5): every advertised listener in <c>endpoints</c> with its
    /// protocol in <c>listener_security_protocol_map</c>, and <c>host</c>/<c>port</c> of the PLAINTEXT one (null and
    /// -1 when there is none, as Kafka writes them for older readers).
    /// </summary>
    public static byte[] BrokerRegistration(BrokerInfo broker, TimeProvider time)
    {
        var endpoints = broker.Endpoints.Count > 0 ? broker.Endpoints : [broker.EndpointFor(Config.ListenerConfig.Plaintext)!];
        var protocols = new JsonObject();
        foreach (var e in endpoints) protocols[e.Name] = broker.SecurityProtocols.GetValueOrDefault(e.Name, e.Name);
        var plaintext = endpoints.FirstOrDefault(e => protocols[e.Name]!.GetValue<string>() == Config.ListenerConfig.Plaintext);
        var node = new JsonObject
        {
            ["features"] = new JsonObject(),
            ["listener_security_protocol_map"] = protocols,
            ["endpoints"] = new JsonArray([.. endpoints.Select(e => (JsonNode)e.ToString())]),
            ["jmx_port"] = -1,
            ["port"] = plaintext?.Port ?? -1,
            ["host"] = plaintext?.Host,
            ["version"] = 5,
            ["timestamp"] = Timestamp(time),
        };
        if (broker.Rack is not null) node["rack"] = broker.Rack;
        return Bytes(node);
    }

    /// <summary>
    /// Reads a registration of any version Kafka writes: the endpoints (v2+, every listener, named), else host and port
    /// as one PLAINTEXT endpoint (v1). <see cref="BrokerInfo.Host"/>/<see cref="BrokerInfo.Port"/> become the PLAINTEXT
    /// endpoint, else the first.
    /// </summary>
    public static BrokerInfo ParseBroker(int id, byte[] data)
    {
        var node = Parse(data, $"broker {id}");
        string host = node["host"]?.GetValue<string>() ?? "";
        int port = node["port"]?.GetValue<int>() ?? -1;
        var protocols = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node["listener_security_protocol_map"] is JsonObject map)
            foreach (var (name, protocol) in map)
                if (protocol?.GetValue<string>() is { } p) protocols[name.ToUpperInvariant()] = p.ToUpperInvariant();
        var endpoints = new List<Config.ListenerEndpoint>();
        if (node["endpoints"] is JsonArray list)
        {
            foreach (var e in list)
            {
                string text = e?.GetValue<string>() ?? "";
                try
                {
                    endpoints.AddRange(Config.ListenerConfig.ParseList("endpoints", text));
                }
                catch (Config.BrokerConfigException)
                {
                    throw new InvalidDataException($"broker {id}: endpoint '{text}' is not NAME://host:port");
                }
            }
        }
        if (endpoints.Count == 0 && port >= 0) endpoints.Add(new Config.ListenerEndpoint(Config.ListenerConfig.Plaintext, host, port));
        foreach (var e in endpoints) protocols.TryAdd(e.Name, e.Name);
        var primary = endpoints.FirstOrDefault(e => protocols[e.Name] == Config.ListenerConfig.Plaintext) ?? endpoints.FirstOrDefault();
        if (primary is not null) (host, port) = (primary.Host, primary.Port);
        return new BrokerInfo(id, host, port, node["rack"]?.GetValue<string>()) { Endpoints = endpoints, SecurityProtocols = protocols };
    }

    /// <summary>
    /// /brokers/topics/T: version 3 carries the topic id (Kafka 2.8+), beside the assignment and, for partitions being
    /// reassigned, the replicas being added and removed (KIP-455).
    /// </summary>
    public static byte[] TopicAssignment(Guid topicId, IReadOnlyDictionary<int, int[]> assignment,
        IReadOnlyDictionary<int, int[]>? adding = null, IReadOnlyDictionary<int, int[]>? removing = null)
    {
        return Bytes(new JsonObject
        {
            ["partitions"] = ReplicaLists(assignment),
            ["topic_id"] = TopicIdText(topicId),
            ["adding_replicas"] = ReplicaLists(adding),
            ["removing_replicas"] = ReplicaLists(removing),
            ["version"] = 3,
        });
    }

    /// <summary>A topic's node as its partitions say it: assignment, and the reassignments in progress.</summary>
    public static byte[] TopicAssignment(Guid topicId, IEnumerable<PartitionInfo> partitions)
    {
        var list = partitions.ToList();
        return TopicAssignment(topicId, list.ToDictionary(p => p.Index, p => p.Replicas),
            list.Where(p => p.AddingReplicas.Length > 0).ToDictionary(p => p.Index, p => p.AddingReplicas),
            list.Where(p => p.RemovingReplicas.Length > 0).ToDictionary(p => p.Index, p => p.RemovingReplicas));
    }

    private static JsonObject ReplicaLists(IReadOnlyDictionary<int, int[]>? lists)
    {
        var json = new JsonObject();
        foreach (var (p, replicas) in (lists ?? new Dictionary<int, int[]>()).OrderBy(a => a.Key))
            json[p.ToString(CultureInfo.InvariantCulture)] = new JsonArray(replicas.Select(r => (JsonNode)r).ToArray());
        return json;
    }

    /// <summary>The replicas being added and removed per partition (empty when no reassignment is in progress).</summary>
    public static (Dictionary<int, int[]> Adding, Dictionary<int, int[]> Removing) ParseReassignments(string topic, byte[] data)
    {
        var node = Parse(data, $"topic {topic}");
        return (ReadReplicaLists(node["adding_replicas"]), ReadReplicaLists(node["removing_replicas"]));
    }

    private static Dictionary<int, int[]> ReadReplicaLists(JsonNode? node)
    {
        var lists = new Dictionary<int, int[]>();
        if (node is JsonObject json)
            foreach (var (key, value) in json)
                if ((value as JsonArray)?.Select(r => r!.GetValue<int>()).ToArray() is { Length: > 0 } replicas)
                    lists[int.Parse(key, CultureInfo.InvariantCulture)] = replicas;
        return lists;
    }

    /// <summary>The topic id (null in assignments written before topic ids) and the replicas per partition.</summary>
    public static (Guid? TopicId, SortedDictionary<int, int[]> Assignment) ParseTopicAssignment(string topic, byte[] data)
    {
        var node = Parse(data, $"topic {topic}");
        var assignment = new SortedDictionary<int, int[]>();
        if (node["partitions"] is JsonObject partitions)
            foreach (var (key, value) in partitions)
                assignment[int.Parse(key, CultureInfo.InvariantCulture)] =
                    (value as JsonArray)?.Select(r => r!.GetValue<int>()).ToArray() ?? [];
        Guid? id = node["topic_id"]?.GetValue<string>() is { } text ? ParseTopicId(text) : null;
        return (id, assignment);
    }

    public static byte[] PartitionStateJson(PartitionState state) => Bytes(new JsonObject
    {
        ["controller_epoch"] = state.ControllerEpoch,
        ["leader"] = state.Leader,
        ["version"] = 1,
        ["leader_epoch"] = state.LeaderEpoch,
        ["isr"] = new JsonArray(state.Isr.Select(r => (JsonNode)r).ToArray()),
    });

    public static PartitionState ParsePartitionState(byte[] data, string what)
    {
        var node = Parse(data, what);
        return new PartitionState(
            node["leader"]?.GetValue<int>() ?? -1,
            node["leader_epoch"]?.GetValue<int>() ?? 0,
            (node["isr"] as JsonArray)?.Select(r => r!.GetValue<int>()).ToArray() ?? [],
            node["controller_epoch"]?.GetValue<int>() ?? 0);
    }

    /// <summary>/config/topics/T and /config/brokers/N: {"version":1,"config":{...}}.</summary>
    public static byte[] EntityConfig(IReadOnlyDictionary<string, string> configs)
    {
        var config = new JsonObject();
        foreach (var (k, v) in configs.OrderBy(c => c.Key, StringComparer.Ordinal)) config[k] = v;
        return Bytes(new JsonObject { ["version"] = 1, ["config"] = config });
    }

    public static Dictionary<string, string> ParseEntityConfig(byte[] data, string what)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (data.Length == 0) return result;
        if (Parse(data, what)["config"] is JsonObject config)
            foreach (var (k, v) in config)
                if (v is not null) result[k] = v.ToString();
        return result;
    }

    /// <summary>A /config/changes notification telling every broker that an entity's config changed.</summary>
    public static byte[] ConfigChange(string entityPath) =>
        Bytes(new JsonObject { ["version"] = 2, ["entity_path"] = entityPath });

    /// <summary>
    /// The entity a /config/changes notification names, as (type, name): version 2 writes
    /// {"entity_path":"topics/T"} (or "brokers/0", "brokers/&lt;default&gt;"), version 1 wrote entity_type and entity_name.
    /// Null if the notification is not understood.
    /// </summary>
    public static (string Type, string Name)? ParseConfigChange(byte[] data)
    {
        var node = Parse(data, "config change notification");
        if (node["entity_path"]?.ToString() is { } path)
        {
            int slash = path.IndexOf('/');
            return slash > 0 && slash < path.Length - 1 ? (path[..slash], path[(slash + 1)..]) : null;
        }
        return node["entity_type"]?.ToString() is { } type && node["entity_name"]?.ToString() is { } name ? (type, name) : null;
    }

    public static byte[] ControllerJson(int brokerId, TimeProvider time) =>
        Bytes(new JsonObject { ["version"] = 1, ["brokerid"] = brokerId, ["timestamp"] = Timestamp(time) });

    /// <summary>/controller_epoch holds the epoch as a bare decimal number.</summary>
    public static byte[] ControllerEpoch(int epoch) => Encoding.UTF8.GetBytes(epoch.ToString(CultureInfo.InvariantCulture));

    public static int ParseControllerEpoch(byte[] data) => int.Parse(Encoding.UTF8.GetString(data).Trim(), CultureInfo.InvariantCulture);

    public static int ParseControllerId(byte[] data) => Parse(data, "controller")["brokerid"]?.GetValue<int>() ?? -1;

    public static byte[] ClusterIdJson(string clusterId) => Bytes(new JsonObject { ["version"] = "1", ["id"] = clusterId });

    public static string ParseClusterId(byte[] data) =>
        Parse(data, "cluster id")["id"]?.GetValue<string>() ?? throw new InvalidDataException("cluster id: no id field");

    /// <summary>/latest_producer_id_block: the last block of producer ids handed to a broker (inclusive bounds).</summary>
    public static byte[] ProducerIdBlock(int brokerId, long start, long end) => Bytes(new JsonObject
    {
        ["version"] = 1,
        ["broker"] = brokerId,
        ["block_start"] = start.ToString(CultureInfo.InvariantCulture),
        ["block_end"] = end.ToString(CultureInfo.InvariantCulture),
    });

    public static long ParseProducerIdBlockEnd(byte[] data)
    {
        if (data.Length == 0) return -1;
        var end = Parse(data, "producer id block")["block_end"];
        return end is null ? -1 : long.Parse(end.ToString(), CultureInfo.InvariantCulture);
    }
}
