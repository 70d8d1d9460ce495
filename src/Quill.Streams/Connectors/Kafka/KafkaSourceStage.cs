using System.Text.RegularExpressions;
using Confluent.Kafka;
using Quill.Streams.Api;
using Quill.Streams.Runtime;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Connectors.Kafka;

/// <summary>
/// A Kafka source: the topics' partitions (the topics named, or those matching a pattern), looked up when the job
/// starts, spread over the job's parallelism (the i-th
/// partition, in topic and partition order, goes to task i mod parallelism), each task with its own consumer. A table's
/// source (<see cref="StreamJob.TableFromKafka{TKey,TValue}"/>) loads its topic before the job's other sources read.
/// </summary>
internal sealed class KafkaSourceStage<TKey, TValue>(
    string sourceId,
    IReadOnlyList<string> topics,
    Regex? pattern,
    StartFrom start,
    Serde<TKey> keySerde,
    Serde<TValue> valueSerde,
    WatermarkStrategy<KafkaRecord<TKey, TValue>>? watermarks,
    DataStream<KafkaRecord<TKey, TValue>> output,
    bool isTable = false) : ISourceStage
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(30);

    public void CreateChannels(JobContext context)
    {
    }

    public async Task<IReadOnlyList<IJobTask>> CreateTasksAsync(JobContext context)
    {
        var partitions = await Task.Run(() => LookUpPartitions(context.Options));
        int parallelism = context.Options.Parallelism;
        var restored = context.Checkpoints?.Restored?.SourceOffsets.GetValueOrDefault(sourceId) ?? [];
        var tasks = new List<IJobTask>(parallelism);
        for (int i = 0; i < parallelism; i++)
        {
            if (!context.RunsSubtask(i)) continue; // another process runs it (scale-out)
            var mine = partitions.Where((_, index) => index % parallelism == i).ToList();
            var chain = output.BuildChain(context, new TaskInfo(i, null));
            var task = new KafkaSourceTask<TKey, TValue>(context.Options, sourceId, mine, start, restored, keySerde, valueSerde, watermarks,
                chain, context.Checkpoints, context.Tables, isTable);
            context.Checkpoints?.AddSource(task);
            tasks.Add(task);
        }
        return tasks;
    }

    /// <summary>The topics whose whole names match <paramref name="pattern"/>, in order, but the brokers' own ("__..."); at least one.</summary>
    public static IReadOnlyList<string> MatchingTopics(StreamJobOptions options, Regex pattern)
    {
        using var admin = new AdminClientBuilder(KafkaClientConfigs.Admin(options)).Build();
        return [.. Matching(admin, pattern).Select(t => t.Topic)];
    }

    /// <summary>The metadata of the topics <see cref="MatchingTopics"/> names, partitions included, from one request.</summary>
    private static List<TopicMetadata> Matching(IAdminClient admin, Regex pattern)
    {
        var whole = new Regex($"^(?:{pattern})$", pattern.Options);
        var matching = admin.GetMetadata(MetadataTimeout).Topics
            .Where(t => !t.Error.IsError && !t.Topic.StartsWith("__", StringComparison.Ordinal) && whole.IsMatch(t.Topic))
            .OrderBy(t => t.Topic, StringComparer.Ordinal).ToList();
        return matching.Count > 0 ? matching
            : throw new KafkaException(new Error(ErrorCode.UnknownTopicOrPart, $"no topic matches the source's pattern '{pattern}'"));
    }

    private List<TopicPartition> LookUpPartitions(StreamJobOptions options)
    {
        using var admin = new AdminClientBuilder(KafkaClientConfigs.Admin(options)).Build();
        var metadata = pattern is not null ? Matching(admin, pattern) : topics.Select(topic =>
        {
            var one = admin.GetMetadata(topic, MetadataTimeout).Topics.Single(t => t.Topic == topic);
            return one.Error.IsError ? throw new KafkaException(new Error(one.Error.Code, $"source topic '{topic}': {one.Error.Reason}")) : one;
        }).ToList();
        return [.. metadata.SelectMany(t => t.Partitions.Select(p => p.PartitionId).Order().Select(p => new TopicPartition(t.Topic, p)))];
    }
}
