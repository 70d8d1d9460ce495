using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Commands.Kafka;

/// <summary>Where --reset-offsets moves a group: a partition's log start, its log end, or a given offset.</summary>
public sealed record OffsetTarget(string Kind, long Offset)
{
    public static readonly OffsetTarget Earliest = new("earliest", -2);
    public static readonly OffsetTarget Latest = new("latest", -1);
    public static OffsetTarget Exact(long offset) => new("offset", offset);
}

/// <summary>A group's committed offsets beside the log-end offsets: what `groups --describe` and `--reset-offsets` work on.</summary>
public static class GroupOffsets
{
    public static async Task<int> DescribeAsync(IAdminClient admin, string group, TextWriter output, TimeSpan timeout)
    {
        ConsumerGroupDescription? description = null;
        try
        {
            var described = await admin.DescribeConsumerGroupsAsync([group], new DescribeConsumerGroupsOptions { RequestTimeout = timeout });
            description = described.ConsumerGroupDescriptions.FirstOrDefault();
        }
        catch (KafkaException e)
        {
            Console.Error.WriteLine($"Warning: cannot describe the members of '{group}': {KafkaErrors.Describe(e)}");
        }

        var committed = await CommittedAsync(admin, group, timeout);
        var owners = new Dictionary<TopicPartition, MemberDescription>();
        foreach (var member in description?.Members ?? [])
            foreach (var tp in member.Assignment?.TopicPartitions ?? [])
                owners[tp] = member;

        var partitions = committed.Keys.Union(owners.Keys).OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition.Value).ToList();
        if (partitions.Count == 0 && description?.Members is not { Count: > 0 })
        {
            if (description is null || description.State is ConsumerGroupState.Dead or ConsumerGroupState.Unknown)
            {
                output.WriteLine($"Error: Consumer group '{group}' does not exist.");
                return ExitCodes.Failed;
            }
        }
        var ends = await EndOffsetsAsync(admin, partitions, OffsetSpec.Latest(), timeout);

        output.WriteLine();
        if (description is not null && description.Members.Count == 0)
        {
            output.WriteLine($"Consumer group '{group}' has no active members.");
            output.WriteLine();
        }
        var table = new TextTable("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID");
        foreach (var tp in partitions)
        {
            long? current = committed.TryGetValue(tp, out long c) ? c : null;
            long? end = ends.TryGetValue(tp, out long e) ? e : null;
            long? lag = current is not null && end is not null ? Math.Max(0, end.Value - current.Value) : null;
            owners.TryGetValue(tp, out var owner);
            table.Add(group, tp.Topic, tp.Partition.Value, current, end, lag, owner?.ConsumerId, owner?.Host, owner?.ClientId);
        }
        // Members with nothing assigned still show, as in Kafka's script.
        foreach (var member in description?.Members ?? [])
            if (member.Assignment?.TopicPartitions is not { Count: > 0 })
                table.Add(group, null, null, null, null, null, member.ConsumerId, member.Host, member.ClientId);
        table.Write(output);
        return ExitCodes.Ok;
    }

    public static async Task<int> ResetAsync(IAdminClient admin, string group, string? topic, OffsetTarget target, bool execute,
        TextWriter output, TimeSpan timeout)
    {
        List<TopicPartition> partitions;
        if (topic is null)
            partitions = (await CommittedAsync(admin, group, timeout)).Keys.ToList();
        else
        {
            string[] parts = topic.Split(':', 2);
            if (parts.Length == 2)
                partitions = parts[1].Split(',').Select(p => int.TryParse(p, out int n) ? new TopicPartition(parts[0], n)
                    : throw new ToolException($"--topic {topic}: expected topic:0,1,...")).ToList();
            else
            {
                var metadata = admin.GetMetadata(timeout).Topics.FirstOrDefault(t => t.Topic == topic); // all topics: never auto-creates
                if (metadata is null || metadata.Error.IsError) throw new ToolException($"Topic '{topic}' does not exist", ExitCodes.Failed);
                partitions = metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
            }
        }
        partitions = partitions.OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition.Value).ToList();

        Dictionary<TopicPartition, long> offsets = target.Kind switch
        {
            "earliest" => await EndOffsetsAsync(admin, partitions, OffsetSpec.Earliest(), timeout),
            "latest" => await EndOffsetsAsync(admin, partitions, OffsetSpec.Latest(), timeout),
            _ => partitions.ToDictionary(tp => tp, _ => target.Offset),
        };
        var table = new TextTable("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
        foreach (var tp in partitions) table.Add(group, tp.Topic, tp.Partition.Value, offsets[tp]);
        output.WriteLine();
        table.Write(output);
        if (execute)
            await admin.AlterConsumerGroupOffsetsAsync(
                [new ConsumerGroupTopicPartitionOffsets(group, partitions.Select(tp => new TopicPartitionOffset(tp, offsets[tp])).ToList())],
                new AlterConsumerGroupOffsetsOptions { RequestTimeout = timeout });
        else
            Console.Error.WriteLine("(dry run: nothing changed; add --execute to apply)");
        return ExitCodes.Ok;
    }

    private static async Task<Dictionary<TopicPartition, long>> CommittedAsync(IAdminClient admin, string group, TimeSpan timeout)
    {
        var options = new ListConsumerGroupOffsetsOptions { RequestTimeout = timeout };
        var results = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, null)], options);
        var committed = Valid(results);
        if (committed.Count > 0) return committed;
        // Brokers that cannot fetch "all topics" at once (OffsetFetch before v2, librdkafka's mock) answer nothing:
        // ask again naming every partition of every topic.
        var partitions = admin.GetMetadata(timeout).Topics
            .SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p.PartitionId)))
            .ToList();
        if (partitions.Count == 0) return committed;
        return Valid(await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, partitions)], options));

        static Dictionary<TopicPartition, long> Valid(List<ListConsumerGroupOffsetsResult> results) =>
            results.SelectMany(r => r.Partitions)
                .Where(p => !p.Error.IsError && p.Offset.Value >= 0)
                .ToDictionary(p => p.TopicPartition, p => p.Offset.Value);
    }

    private static async Task<Dictionary<TopicPartition, long>> EndOffsetsAsync(IAdminClient admin, IReadOnlyList<TopicPartition> partitions,
        OffsetSpec spec, TimeSpan timeout)
    {
        if (partitions.Count == 0) return [];
        var result = await admin.ListOffsetsAsync(partitions.Select(tp => new TopicPartitionOffsetSpec { TopicPartition = tp, OffsetSpec = spec }),
            new ListOffsetsOptions { RequestTimeout = timeout });
        return result.ResultInfos
            .Where(r => !r.TopicPartitionOffsetError.Error.IsError)
            .ToDictionary(r => r.TopicPartitionOffsetError.TopicPartition, r => r.TopicPartitionOffsetError.Offset.Value);
    }
}
