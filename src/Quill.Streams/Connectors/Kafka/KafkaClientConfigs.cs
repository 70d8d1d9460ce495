using Confluent.Kafka;
using Quill.Streams.Api;

namespace Quill.Streams.Connectors.Kafka;

/// <summary>The client settings a job's sources and sinks use, the user's extra settings applied last.</summary>
internal static class KafkaClientConfigs
{
    public static ConsumerConfig Consumer(StreamJobOptions options)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.EffectiveGroupId,
            ClientId = $"{options.JobName}-source",
            // Partitions are assigned by the job, not by the group protocol; positions are committed by the job only
            // once what was read has gone through the sinks.
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            // Only committed records of transactional producers (an exactly-once job upstream); librdkafka's default too.
            IsolationLevel = IsolationLevel.ReadCommitted,
            // A source reads topic, partition, offset, timestamp, key and value: not copying the headers of each record
            // into managed memory saves an allocation per record.
            ConsumeResultFields = "topic,timestamp",
        };
        foreach (var (key, value) in options.ConsumerConfig) config.Set(key, value);
        return config;
    }

    public static ProducerConfig Producer(StreamJobOptions options)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = options.BootstrapServers,
            ClientId = $"{options.JobName}-sink",
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            // A sink's delivery handler looks at the error only: without this the client copies every record's key,
            // value, timestamp and headers back into managed memory for its report.
            DeliveryReportFields = "none",
        };
        foreach (var (key, value) in options.ProducerConfig) config.Set(key, value);
        return config;
    }

    public static AdminClientConfig Admin(StreamJobOptions options) =>
        new() { BootstrapServers = options.BootstrapServers, ClientId = $"{options.JobName}-admin" };
}
