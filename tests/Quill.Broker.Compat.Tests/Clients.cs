using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Broker.Compat.Tests;

/// <summary>Small helpers over Confluent.Kafka (librdkafka) for the tests.</summary>
public static class Clients
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static string NewTopic(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    public static IAdminClient Admin(string bootstrap) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();

    /// <summary>
    /// One topic's description through DescribeTopics, bounded: librdkafka's DescribeTopics has been seen (here, and in
    /// confluent-kafka-dotnet#2471) never to complete while the broker had nothing in flight, and an await without a
    /// bound would stall the whole test run instead of failing one test.
    /// </summary>
    public static async Task<TopicDescription> DescribeTopicAsync(IAdminClient admin, string topic)
    {
        var described = admin.DescribeTopicsAsync(TopicCollection.OfTopicNames([topic]), new DescribeTopicsOptions { RequestTimeout = Timeout });
        try
        {
            return (await described.WaitAsync(Timeout * 2)).TopicDescriptions.Single();
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"DescribeTopics({topic}) did not complete within {Timeout * 2}");
        }
    }

    public static async Task CreateTopicAsync(string bootstrap, string topic, int partitions, Dictionary<string, string>? configs = null)
    {
        using var admin = Admin(bootstrap);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1, Configs = configs }]);
    }

    public static IProducer<string, string> Producer(string bootstrap, Action<ProducerConfig>? configure = null)
    {
        // A delivery that cannot succeed fails in 2 minutes (librdkafka's default, 5, is as long as the test run's
        // hang guard, which would abort every test after it instead of failing this one).
        var config = new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, LingerMs = 5, MessageTimeoutMs = 120_000 };
        configure?.Invoke(config);
        return new ProducerBuilder<string, string>(config).Build();
    }

    /// <summary>A consumer with manually assigned partitions (no group protocol involved).</summary>
    public static IConsumer<string, string> Consumer(string bootstrap, Action<ConsumerConfig>? configure = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "unused-" + Guid.NewGuid().ToString("N")[..8],
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Error,
        };
        configure?.Invoke(config);
        return new ConsumerBuilder<string, string>(config).Build();
    }

    /// <summary>Reads <paramref name="count"/> messages from the given positions, failing if they do not come within the timeout.</summary>
    public static List<ConsumeResult<string, string>> Consume(string bootstrap, IEnumerable<TopicPartitionOffset> from, int count,
        Action<ConsumerConfig>? configure = null)
    {
        using var consumer = Consumer(bootstrap, configure);
        consumer.Assign(from);
        var results = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow + Timeout;
        while (results.Count < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"consumed {results.Count} of {count} messages within {Timeout}");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (result is null || result.IsPartitionEOF) continue;
            results.Add(result);
        }
        consumer.Close();
        return results;
    }

    public static List<ConsumeResult<string, string>> ConsumeFromStart(string bootstrap, string topic, int partitions, int count) =>
        Consume(bootstrap, Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)), count);

    /// <summary>
    /// The values of partition 0 of <paramref name="topic"/> from its start, read until the end of the partition once
    /// at least <paramref name="expected"/> came, or until <paramref name="wait"/> (the default timeout) runs out.
    /// </summary>
    public static List<string> ReadValues(string bootstrap, string topic, IsolationLevel isolation, int expected,
        TimeSpan? wait = null, bool checkCrcs = false)
    {
        using var consumer = Consumer(bootstrap, c =>
        {
            c.IsolationLevel = isolation;
            c.EnablePartitionEof = true;
            c.CheckCrcs = checkCrcs;
        });
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var values = new List<string>();
        var deadline = DateTime.UtcNow + (wait ?? Timeout);
        while (DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null) continue;
            if (result.IsPartitionEOF)
            {
                if (values.Count >= expected) break;
                continue;
            }
            values.Add(result.Message.Value);
        }
        consumer.Close();
        return values;
    }
}
