using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Commands.Kafka;

/// <param name="LeaderLive">The leader is one of the brokers the metadata names (a leader that left is not).</param>
public sealed record PartitionLayout(int Partition, int Leader, int[] Replicas, int[] Isr, bool LeaderLive = true);

/// <summary>
/// What `topics --describe` prints for one topic: its id, partitions and the configs set on it, and its effective
/// min.insync.replicas (whatever set it) when the broker told.
/// </summary>
public sealed record TopicLayout(string Name, string? TopicId, IReadOnlyList<PartitionLayout> Partitions, IReadOnlyList<KeyValuePair<string, string>> Configs,
    int? MinInsyncReplicas = null)
{
    public int ReplicationFactor => Partitions.Count == 0 ? 0 : Partitions[0].Replicas.Length;
}

/// <summary>
/// Reads topic layouts. The partitions come from a Metadata request, which every broker answers. The topic id and
/// the topic's own configs need DescribeTopics and DescribeConfigs, which librdkafka sends only once it knows the
/// controller; a cluster that names none (librdkafka's mock broker) gets the layout without them.
/// </summary>
public static class TopicLayouts
{
    private static readonly TimeSpan ExtrasTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Kafka prints a topic id as URL-safe base64 of its 16 bytes, without padding (Confluent's ToString uses +/=).</summary>
    public static string KafkaUuid(Uuid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes, id.MostSignificantBits);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes[8..], id.LeastSignificantBits);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <param name="names">The topics to read; null for all of them. Unknown names are left out.</param>
    public static async Task<List<TopicLayout>> ReadAsync(IAdminClient admin, IReadOnlyList<string>? names, TimeSpan timeout)
    {
        // Always the all-topics request: one that names a topic may auto-create it (librdkafka may set
        // AllowAutoTopicCreation), and --describe must never create what it describes.
        var metadata = admin.GetMetadata(timeout);
        var topics = metadata.Topics
            .Where(t => t.Error.Code == ErrorCode.NoError && (names is null || names.Contains(t.Topic)))
            .OrderBy(t => t.Topic, StringComparer.Ordinal)
            .ToList();
        if (topics.Count == 0) return [];
        var live = metadata.Brokers.Select(b => b.BrokerId).ToHashSet();

        Dictionary<string, string>? ids = null;
        try
        {
            var described = admin.DescribeTopicsAsync(TopicCollection.OfTopicNames(topics.Select(t => t.Topic)),
                new DescribeTopicsOptions { RequestTimeout = ExtrasTimeout });
            ids = (await described.WaitAsync(ExtrasTimeout * 2)).TopicDescriptions.ToDictionary(d => d.Name, d => KafkaUuid(d.TopicId));
        }
        catch (Exception e) when (e is KafkaException or TimeoutException)
        {
            // TimeoutException: librdkafka's DescribeTopics has been seen never to complete; the ids are optional.
            // No controller known (or an old broker): describe without ids and configs.
        }

        var configs = new Dictionary<string, List<KeyValuePair<string, string>>>();
        var minIsr = new Dictionary<string, int>();
        if (ids is not null)
        {
            try
            {
                var results = await admin.DescribeConfigsAsync(topics.Select(t => new ConfigResource { Type = ResourceType.Topic, Name = t.Topic }),
                    new DescribeConfigsOptions { RequestTimeout = ExtrasTimeout });
                foreach (var r in results)
                {
                    if (r.Entries.TryGetValue("min.insync.replicas", out var m) && int.TryParse(m.Value, out int n)) minIsr[r.ConfigResource.Name] = n;
                    configs[r.ConfigResource.Name] = r.Entries.Values
                        .Where(e => e.Source == ConfigSource.DynamicTopicConfig)
                        .OrderBy(e => e.Name, StringComparer.Ordinal)
                        .Select(e => new KeyValuePair<string, string>(e.Name, e.Value))
                        .ToList();
                }
            }
            catch (KafkaException)
            {
                // Configs are optional in the listing.
            }
        }

        return topics.Select(t => new TopicLayout(
                t.Topic,
                ids?.GetValueOrDefault(t.Topic),
                t.Partitions.OrderBy(p => p.PartitionId).Select(p => new PartitionLayout(p.PartitionId, p.Leader, p.Replicas, p.InSyncReplicas,
                    p.Leader >= 0 && live.Contains(p.Leader))).ToList(),
                configs.GetValueOrDefault(t.Topic) ?? [],
                minIsr.TryGetValue(t.Topic, out int min) ? min : null))
            .ToList();
    }
}
