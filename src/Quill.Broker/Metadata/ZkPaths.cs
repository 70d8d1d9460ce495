namespace Quill.Broker.Metadata;

/// <summary>The znodes of Kafka's ZooKeeper mode, so that an operator finds what they expect.</summary>
public static class ZkPaths
{
    public const string Brokers = "/brokers";
    public const string BrokerIds = "/brokers/ids";
    public const string BrokerTopics = "/brokers/topics";
    public const string BrokerSeqId = "/brokers/seqid";
    public const string Config = "/config";
    public const string ConfigTopics = "/config/topics";
    public const string ConfigBrokers = "/config/brokers";
    public const string ConfigChanges = "/config/changes";
    public const string Admin = "/admin";
    public const string DeleteTopics = "/admin/delete_topics";
    public const string Controller = "/controller";
    public const string ControllerEpoch = "/controller_epoch";
    public const string ClusterId = "/cluster/id";
    public const string IsrChangeNotification = "/isr_change_notification";
    public const string LatestProducerIdBlock = "/latest_producer_id_block";

    /// <summary>The persistent nodes a cluster needs before anything else (Kafka's ZkData.PersistentZkPaths).</summary>
    public static readonly string[] Persistent =
    [
        BrokerIds, BrokerTopics, BrokerSeqId, ConfigTopics, ConfigBrokers, ConfigChanges, "/config/clients", "/config/users",
        DeleteTopics, IsrChangeNotification, LatestProducerIdBlock, "/cluster",
    ];

    public static string Broker(int id) => $"{BrokerIds}/{id}";
    public static string Topic(string topic) => $"{BrokerTopics}/{topic}";
    public static string TopicPartitions(string topic) => $"{BrokerTopics}/{topic}/partitions";
    public static string Partition(string topic, int partition) => $"{BrokerTopics}/{topic}/partitions/{partition}";
    public static string PartitionState(string topic, int partition) => $"{BrokerTopics}/{topic}/partitions/{partition}/state";
    public static string TopicConfig(string topic) => $"{ConfigTopics}/{topic}";
    public static string DeleteTopic(string topic) => $"{DeleteTopics}/{topic}";
    public const string ConfigChangePrefix = ConfigChanges + "/config_change_";
    /// <summary>The /config/brokers entity holding configs for every broker (Kafka's cluster-wide default).</summary>
    public const string DefaultBrokerEntity = "<default>";
}
