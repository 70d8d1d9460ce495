using System.CommandLine;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Commands.Kafka;

/// <summary>`quill topics`: kafka-topics.sh with the same flags (--create, --list, --describe, --alter, --delete).</summary>
public static class TopicsCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var cluster = new KafkaToolOptions();
        var create = new Option<bool>("--create") { Description = "Create a topic." };
        var list = new Option<bool>("--list") { Description = "List the topics." };
        var describe = new Option<bool>("--describe") { Description = "Describe the topic (or all topics): partitions, leaders, replicas, ISR." };
        var alter = new Option<bool>("--alter") { Description = "Raise the partition count of a topic (--partitions)." };
        var delete = new Option<bool>("--delete") { Description = "Delete a topic." };
        var topic = new Option<string?>("--topic") { Description = "The topic's name." };
        var partitions = new Option<int?>("--partitions") { Description = "Partition count (create: default num.partitions of the broker)." };
        var replicationFactor = new Option<short?>("--replication-factor") { Description = "Replicas per partition (default: the broker's default.replication.factor)." };
        var replicaAssignment = new Option<string?>("--replica-assignment")
        {
            Description = "With --create: the replicas of each partition, partitions separated by commas and brokers by colons (0:1,1:2 is two partitions of two replicas); instead of --partitions and --replication-factor.",
        };
        var config = new Option<string[]>("--config") { Description = "A topic config override key=value; repeat for more.", AllowMultipleArgumentsPerToken = false };
        var ifNotExists = new Option<bool>("--if-not-exists") { Description = "With --create: succeed if the topic exists." };
        var ifExists = new Option<bool>("--if-exists") { Description = "With --alter, --delete, --describe: succeed if the topic does not exist." };
        var excludeInternal = new Option<bool>("--exclude-internal") { Description = "Leave out internal topics (__consumer_offsets) from --list and --describe." };
        var underReplicated = new Option<bool>("--under-replicated-partitions") { Description = "With --describe: only partitions whose ISR is smaller than their replica set." };
        var unavailable = new Option<bool>("--unavailable-partitions") { Description = "With --describe: only partitions with no leader, or a leader that is not a live broker." };
        var underMinIsr = new Option<bool>("--under-min-isr-partitions") { Description = "With --describe: only partitions whose ISR is smaller than min.insync.replicas." };
        var atMinIsr = new Option<bool>("--at-min-isr-partitions") { Description = "With --describe: only partitions whose ISR is exactly min.insync.replicas." };

        var command = new Command("topics", "Create, list, describe, alter and delete topics (as kafka-topics.sh).")
        {
            create, list, describe, alter, delete, topic, partitions, replicationFactor, replicaAssignment, config, ifNotExists, ifExists, excludeInternal,
            underReplicated, unavailable, underMinIsr, atMinIsr,
        };
        cluster.AddTo(command);
        command.SetAction((parse, ct) => KafkaTool.RunAsync("topics", async () =>
        {
            int actions = new[] { create, list, describe, alter, delete }.Count(o => parse.GetValue(o));
            if (actions != 1) throw new ToolException("give exactly one of --create, --list, --describe, --alter, --delete");
            string? name = parse.GetValue(topic);
            using var admin = new AdminClientBuilder(await cluster.ClientConfigAsync(parse, ct)).Build();
            if (parse.GetValue(list))
            {
                var metadata = admin.GetMetadata(Timeout);
                foreach (var t in metadata.Topics.Select(t => t.Topic).Where(t => !(parse.GetValue(excludeInternal) && IsInternal(t))).Order(StringComparer.Ordinal))
                    Console.WriteLine(t);
                return ExitCodes.Ok;
            }
            if (parse.GetValue(describe))
            {
                var filter = new PartitionFilter(parse.GetValue(underReplicated), parse.GetValue(unavailable), parse.GetValue(underMinIsr), parse.GetValue(atMinIsr));
                return await DescribeAsync(admin, name, parse.GetValue(ifExists), parse.GetValue(excludeInternal), filter);
            }

            if (name is null) throw new ToolException("--topic is required");
            if (parse.GetValue(create))
            {
                var spec = new TopicSpecification
                {
                    Name = name,
                    NumPartitions = parse.GetValue(partitions) ?? -1,
                    ReplicationFactor = parse.GetValue(replicationFactor) ?? -1,
                    Configs = KeyValues.Parse(parse.GetValue(config), "--config").ToDictionary(p => p.Key, p => p.Value),
                };
                if (parse.GetValue(replicaAssignment) is { } assignment)
                {
                    if (parse.GetValue(partitions) is not null || parse.GetValue(replicationFactor) is not null)
                        throw new ToolException("--replica-assignment takes the place of --partitions and --replication-factor");
                    spec.ReplicasAssignments = ParseAssignment(assignment);
                    spec.NumPartitions = spec.ReplicasAssignments.Count; // librdkafka wants the count with an assignment
                }
                try
                {
                    await admin.CreateTopicsAsync([spec], new CreateTopicsOptions { RequestTimeout = Timeout, OperationTimeout = Timeout });
                }
                catch (CreateTopicsException e) when (parse.GetValue(ifNotExists) && e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
                {
                    return ExitCodes.Ok;
                }
                Console.WriteLine($"Created topic {name}.");
                return ExitCodes.Ok;
            }
            if (parse.GetValue(alter))
            {
                if (parse.GetValue(partitions) is not { } count) throw new ToolException("--alter needs --partitions (topic configs are changed with quill configs)");
                try
                {
                    await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = name, IncreaseTo = count }],
                        new CreatePartitionsOptions { RequestTimeout = Timeout, OperationTimeout = Timeout });
                }
                catch (CreatePartitionsException e) when (parse.GetValue(ifExists) && e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.UnknownTopicOrPart))
                {
                }
                return ExitCodes.Ok;
            }
            try
            {
                await admin.DeleteTopicsAsync([name], new DeleteTopicsOptions { RequestTimeout = Timeout, OperationTimeout = Timeout });
            }
            catch (DeleteTopicsException e) when (parse.GetValue(ifExists) && e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.UnknownTopicOrPart))
            {
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>kafka-topics.sh's assignment syntax: "0:1,1:2" is partition 0 on brokers 0 and 1, partition 1 on 1 and 2.</summary>
    internal static Dictionary<int, List<int>> ParseAssignment(string text)
    {
        var result = new Dictionary<int, List<int>>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var brokers = new List<int>();
            foreach (string id in part.Split(':', StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int broker))
                    throw new ToolException($"--replica-assignment: '{id}' in '{part}' is not a broker id");
                if (brokers.Contains(broker)) throw new ToolException($"--replica-assignment: broker {broker} appears twice in '{part}'");
                brokers.Add(broker);
            }
            if (result.Count > 0 && brokers.Count != result[0].Count)
                throw new ToolException($"--replica-assignment: partition {result.Count} has {brokers.Count} replicas, partition 0 has {result[0].Count}");
            result[result.Count] = brokers;
        }
        return result;
    }

    private static bool IsInternal(string topic) => topic.StartsWith("__", StringComparison.Ordinal);

    private static async Task<int> DescribeAsync(IAdminClient admin, string? name, bool ifExists, bool excludeInternal, PartitionFilter filter)
    {
        var topics = await TopicLayouts.ReadAsync(admin, name is null ? null : [name], Timeout);
        if (name is not null && topics.Count == 0)
        {
            if (ifExists) return ExitCodes.Ok;
            throw new ToolException($"Topic '{name}' does not exist as expected", ExitCodes.Failed);
        }
        foreach (var t in topics.Where(t => !(excludeInternal && IsInternal(t.Name))))
        {
            // As kafka-topics.sh: a report on partitions prints the matching partition lines only.
            if (!filter.Any)
                Console.WriteLine($"Topic: {t.Name}\tTopicId: {t.TopicId ?? "-"}\tPartitionCount: {t.Partitions.Count}\t" +
                                  $"ReplicationFactor: {t.ReplicationFactor}\tConfigs: {string.Join(',', t.Configs.Select(c => $"{c.Key}={c.Value}"))}");
            foreach (var p in t.Partitions.Where(p => filter.Matches(t, p)))
                Console.WriteLine($"\tTopic: {t.Name}\tPartition: {p.Partition}\tLeader: {(p.Leader < 0 ? "none" : p.Leader)}\t" +
                                  $"Replicas: {string.Join(',', p.Replicas)}\tIsr: {string.Join(',', p.Isr)}");
        }
        return ExitCodes.Ok;
    }

    /// <summary>kafka-topics.sh's partition reports; with none asked for, every partition matches.</summary>
    public sealed record PartitionFilter(bool UnderReplicated, bool Unavailable, bool UnderMinIsr, bool AtMinIsr)
    {
        public bool Any => UnderReplicated || Unavailable || UnderMinIsr || AtMinIsr;

        public bool Matches(TopicLayout topic, PartitionLayout p)
        {
            if (!Any) return true;
            // As kafka-topics.sh judges them: a partition with no leader is also under its min ISR; with no
            // min.insync.replicas known (DescribeConfigs refused) only that.
            bool hasLeader = p.Leader >= 0;
            int? minIsr = topic.MinInsyncReplicas;
            return (UnderReplicated && p.Isr.Length < p.Replicas.Length)
                || (Unavailable && !p.LeaderLive)
                || (UnderMinIsr && (!hasLeader || p.Isr.Length < minIsr))
                || (AtMinIsr && p.Isr.Length == minIsr);
        }
    }
}
