using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Perf.Kafka;

public sealed record ConsumerPerfOptions(
    string BootstrapServers, string Topic, long Messages, string Group, TimeSpan Timeout, IReadOnlyList<KeyValuePair<string, string>> ConsumerProps);

public sealed record ConsumerPerfResult(DateTime Start, DateTime End, long Messages, long Bytes, TimeSpan RebalanceTime, TimeSpan FetchTime, bool TimedOut)
{
    public TimeSpan Elapsed => End - Start;
    public double Megabytes => Bytes / 1024.0 / 1024.0;
    public double MegabytesPerSecond => Megabytes / Elapsed.TotalSeconds;
    public double MessagesPerSecond => Messages / Elapsed.TotalSeconds;
    public double FetchMegabytesPerSecond => FetchTime > TimeSpan.Zero ? Megabytes / FetchTime.TotalSeconds : 0;
    public double FetchMessagesPerSecond => FetchTime > TimeSpan.Zero ? Messages / FetchTime.TotalSeconds : 0;

    public const string KafkaHeader =
        "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec";

    /// <summary>kafka-consumer-perf-test's result line (under <see cref="KafkaHeader"/>).</summary>
    public string KafkaLine() => string.Format(CultureInfo.InvariantCulture,
        "{0:yyyy-MM-dd HH:mm:ss:fff}, {1:yyyy-MM-dd HH:mm:ss:fff}, {2:0.0000}, {3:0.0000}, {4}, {5:0.0000}, {6}, {7}, {8:0.0000}, {9:0.0000}",
        Start, End, Megabytes, MegabytesPerSecond, Messages, MessagesPerSecond,
        (long)RebalanceTime.TotalMilliseconds, (long)FetchTime.TotalMilliseconds, FetchMegabytesPerSecond, FetchMessagesPerSecond);
}

/// <summary>
/// kafka-consumer-perf-test on Confluent.Kafka: one consumer in a fresh group reads N messages from the earliest
/// offset and counts records and bytes. Values are measured, not copied (the deserializer returns their length), so
/// the client's own cost is what librdkafka needs to fetch and hand over each record.
/// </summary>
public static class ConsumerPerf
{
    public static ConsumerPerfResult Run(ConsumerPerfOptions o, Action<long>? progress = null, CancellationToken ct = default)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = o.BootstrapServers,
            GroupId = o.Group,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = true,
            // Only the value is counted: without this, Confluent.Kafka copies the topic name, the timestamp and the
            // headers out of librdkafka for every record, which costs more than everything else per record here.
            ConsumeResultFields = "none",
            // librdkafka stops fetching for fetch.queue.backoff.ms (1 s by default) whenever 100,000 records
            // (queued.min.messages) wait in its queue; a reader faster than that sits idle most of each second.
            // Kafka's own consumer has no such pause, so neither does this benchmark (both overridable).
            FetchQueueBackoffMs = 10,
        };
        foreach (var (key, value) in o.ConsumerProps) config.Set(key, value);

        long assignedAt = 0;
        using var consumer = new ConsumerBuilder<Ignore, int>(config)
            .SetValueDeserializer(LengthDeserializer.Instance)
            .SetPartitionsAssignedHandler((_, _) => { if (assignedAt == 0) assignedAt = Stopwatch.GetTimestamp(); })
            .Build();
        var startTime = DateTime.Now;
        long started = Stopwatch.GetTimestamp();
        consumer.Subscribe(o.Topic);

        long messages = 0, bytes = 0, lastMessage = Stopwatch.GetTimestamp();
        bool timedOut = false;
        while (messages < o.Messages)
        {
            ct.ThrowIfCancellationRequested();
            var result = consumer.Consume(100);
            if (result?.Message is null)
            {
                // Silence counts from the last message or the assignment; joining the group has its own 30 s on top.
                long quietSince = assignedAt == 0 ? lastMessage : Math.Max(lastMessage, assignedAt);
                if (Stopwatch.GetElapsedTime(quietSince) > o.Timeout + (assignedAt == 0 ? TimeSpan.FromSeconds(30) : TimeSpan.Zero))
                {
                    timedOut = true;
                    break;
                }
                continue;
            }
            lastMessage = Stopwatch.GetTimestamp();
            messages++;
            bytes += result.Message.Value;
            if ((messages & 0x3FFF) == 0) progress?.Invoke(messages);
        }
        long ended = timedOut ? lastMessage : Stopwatch.GetTimestamp();
        var endTime = startTime + Stopwatch.GetElapsedTime(started, ended);
        consumer.Close();
        if (assignedAt == 0) assignedAt = ended;
        return new ConsumerPerfResult(startTime, endTime, messages, bytes,
            Stopwatch.GetElapsedTime(started, Math.Min(assignedAt, ended)), Stopwatch.GetElapsedTime(Math.Min(assignedAt, ended), ended), timedOut);
    }

    /// <summary>The value's length instead of a copy of it.</summary>
    private sealed class LengthDeserializer : IDeserializer<int>
    {
        public static readonly LengthDeserializer Instance = new();
        public int Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) => isNull ? 0 : data.Length;
    }

    /// <summary>
    /// Writes <paramref name="count"/> records of <paramref name="size"/> bytes (untimed), so that a consumer run has
    /// data, and returns how many records the topic holds afterwards (from the watermarks).
    /// </summary>
    public static long Fill(string bootstrapServers, string topic, long count, int size)
    {
        var config = new ProducerConfig { BootstrapServers = bootstrapServers, Acks = Acks.Leader, LingerMs = 5 };
        using var producer = new ProducerBuilder<Null, byte[]>(config).Build();
        var message = new Message<Null, byte[]> { Value = new byte[size] };
        Error? failure = null;
        Action<DeliveryReport<Null, byte[]>> onDelivery = r => { if (r.Error.IsError) failure ??= r.Error; };
        for (long i = 0; i < count; i++)
        {
            while (true)
            {
                try
                {
                    producer.Produce(topic, message, onDelivery);
                    break;
                }
                catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    Thread.Sleep(1);
                }
            }
        }
        if (producer.Flush(TimeSpan.FromMinutes(5)) > 0) throw new KafkaException(ErrorCode.Local_TimedOut);
        if (failure is not null) throw new KafkaException(failure);

        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
        var earliest = admin.ListOffsetsAsync(partitions.Select(p => new TopicPartitionOffsetSpec { TopicPartition = new TopicPartition(topic, p.PartitionId), OffsetSpec = OffsetSpec.Earliest() })).GetAwaiter().GetResult();
        var latest = admin.ListOffsetsAsync(partitions.Select(p => new TopicPartitionOffsetSpec { TopicPartition = new TopicPartition(topic, p.PartitionId), OffsetSpec = OffsetSpec.Latest() })).GetAwaiter().GetResult();
        return latest.ResultInfos.Sum(r => r.TopicPartitionOffsetError.Offset.Value) - earliest.ResultInfos.Sum(r => r.TopicPartitionOffsetError.Offset.Value);
    }
}
