using Confluent.Kafka;
using Quill.Streams.Api;
using Quill.Streams.Runtime;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Connectors.Kafka;

/// <summary>
/// A Kafka source: the topics' partitions, looked up when the job starts, spread over the job's parallelism (the i-th
/// partition, in topic and partition order, goes to task i mod parallelism), each task with its own consumer. A table's
/// source (<see cref="StreamJob.TableFromKafka{TKey,TValue}"/>) loads its topic before the job's other sources read.
/// </summary>
internal sealed class KafkaSourceStage<TKey, TValue>(
    string sourceId,
    IReadOnlyList<string> topics,
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

    private List<TopicPartition> LookUpPartitions(StreamJobOptions options)
    {
        using var admin = new AdminClientBuilder(KafkaClientConfigs.Admin(options)).Build();
        var partitions = new List<TopicPartition>();
        foreach (string topic in topics)
        {
            var metadata = admin.GetMetadata(topic, MetadataTimeout).Topics.Single(t => t.Topic == topic);
            if (metadata.Error.IsError)
                throw new KafkaException(new Error(metadata.Error.Code, $"source topic '{topic}': {metadata.Error.Reason}"));
            partitions.AddRange(metadata.Partitions.Select(p => p.PartitionId).Order().Select(p => new TopicPartition(topic, p)));
        }
        return partitions;
    }
}
