using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Streams.Tests;

/// <summary>Writing a job's input and reading its output with Confluent.Kafka, independently of Quill.Streams.</summary>
public sealed class Kafka(string bootstrap)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string NewTopic(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>
    /// Creates <paramref name="topic"/> with no deletion by time (retention.ms=-1) unless <paramref name="configs"/> sets
    /// it: the event-time tests write records stamped a few seconds after 1970, which the broker's default retention
    /// (7 days, judged by the records' timestamps, as in Kafka) deletes at its next check (every 5 minutes of the broker's
    /// life), even while a test is about to read them.
    /// </summary>
    public async Task CreateTopicAsync(string topic, int partitions, Dictionary<string, string>? configs = null, short replicationFactor = 1)
    {
        var all = new Dictionary<string, string> { ["retention.ms"] = "-1" };
        if (configs is not null)
            foreach (var (key, value) in configs) all[key] = value;
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = replicationFactor, Configs = all }]);
    }

    /// <summary>Writes the values (key null) round-robin over partitions, in order within each partition.</summary>
    public async Task ProduceAsync(string topic, IEnumerable<string> values, int partitions = 1) =>
        await ProduceAsync(topic, values.Select((v, i) => new Input(null, v, i % partitions, null)));

    public async Task ProduceAsync(string topic, IEnumerable<Input> inputs)
    {
        // Idempotent: a retry after a broker's failure (the cluster tests kill one mid-write) must not write a line twice.
        using var producer = new ProducerBuilder<string?, string?>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, EnableIdempotence = true }).Build();
        foreach (var input in inputs)
        {
            var message = new Message<string?, string?> { Key = input.Key, Value = input.Value };
            if (input.Timestamp is { } ts) message.Timestamp = new Timestamp(ts, TimestampType.CreateTime);
            await producer.ProduceAsync(new TopicPartition(topic, input.Partition), message);
        }
    }

    /// <summary>
    /// Reads <paramref name="count"/> records from the start of every partition of <paramref name="topic"/>, failing if
    /// they do not come within the timeout or if <paramref name="job"/> fails first (with the job's failure).
    /// </summary>
    public async Task<List<ConsumeResult<string?, string?>>> ReadAsync(string topic, int partitions, int count, Task job,
        IsolationLevel isolation = IsolationLevel.ReadCommitted)
    {
        using var consumer = new ConsumerBuilder<string?, string?>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "reader-" + Guid.NewGuid().ToString("N")[..8],
            EnableAutoCommit = false,
            IsolationLevel = isolation,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var results = new List<ConsumeResult<string?, string?>>();
        var deadline = DateTime.UtcNow + Timeout;
        while (results.Count < count)
        {
            if (job.IsFaulted) await job;
            if (job.IsCompleted) throw new InvalidOperationException($"the job ended after {results.Count} of {count} outputs");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"read {results.Count} of {count} records from {topic} within {Timeout}");
            var result = await Task.Run(() => consumer.Consume(TimeSpan.FromMilliseconds(200)));
            if (result is null || result.IsPartitionEOF) continue;
            results.Add(result);
        }
        consumer.Close();
        return results;
    }

    /// <summary>
    /// What a reader with <paramref name="isolation"/> sees now: every partition read until the client reports its end
    /// (for read_committed the last stable offset: nothing of a transaction still open, nor anything after it).
    /// </summary>
    /// <summary>
    /// A word count's exactly-once output, read committed: every word's counts exactly 1, 2, ... up to its total in
    /// <paramref name="totals"/>: none twice (a replay after a kill whose output had been committed), none missing
    /// (output of a checkpoint lost in a kill), none of an aborted transaction, no word that is not in the input.
    /// </summary>
    public void AssertEveryCountOnce(string topic, int partitions, IReadOnlyDictionary<string, int> totals)
    {
        var records = ReadToEnd(topic, partitions, IsolationLevel.ReadCommitted);
        var counts = records.GroupBy(r => r.Message.Key!).ToDictionary(g => g.Key, g => g.Select(r => int.Parse(r.Message.Value!)).Order().ToList());
        Assert.Equal(totals.Keys.Order(), counts.Keys.Order());
        foreach (var (word, total) in totals) Assert.Equal(Enumerable.Range(1, total), counts[word]);
        Assert.Equal(totals.Values.Sum(), records.Count);
    }

    public List<ConsumeResult<string?, string?>> ReadToEnd(string topic, int partitions, IsolationLevel isolation)
    {
        using var consumer = new ConsumerBuilder<string?, string?>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "reader-" + Guid.NewGuid().ToString("N")[..8],
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            IsolationLevel = isolation,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var results = new List<ConsumeResult<string?, string?>>();
        var atEnd = new HashSet<int>();
        var deadline = DateTime.UtcNow + Timeout;
        while (atEnd.Count < partitions)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"read {results.Count} records from {topic}, {atEnd.Count} of {partitions} partitions to their end");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null) continue;
            if (result.IsPartitionEOF)
            {
                atEnd.Add(result.Partition.Value);
                continue;
            }
            atEnd.Remove(result.Partition.Value);
            results.Add(result);
        }
        return results;
    }

    /// <summary>What is in the topic after everything written so far: reads up to each partition's end offset.</summary>
    public List<ConsumeResult<string?, string?>> ReadAll(string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<string?, string?>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "reader-" + Guid.NewGuid().ToString("N")[..8],
            EnableAutoCommit = false,
        }).Build();
        var ends = Enumerable.Range(0, partitions)
            .ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), Timeout).High.Value);
        consumer.Assign(ends.Where(e => e.Value > 0).Select(e => new TopicPartitionOffset(topic, e.Key, Offset.Beginning)));
        var results = new List<ConsumeResult<string?, string?>>();
        var deadline = DateTime.UtcNow + Timeout;
        while (results.Count < ends.Values.Sum())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"read {results.Count} of {ends.Values.Sum()} records from {topic}");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is not null && !result.IsPartitionEOF) results.Add(result);
        }
        return results;
    }
}

/// <summary>A record to write; a null value is a tombstone.</summary>
public sealed record Input(string? Key, string? Value, int Partition, long? Timestamp);
