using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Examples.WordCount;
using Quill.Streams.Serialization;
using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Tests;

/// <summary>
/// Byte and user-written serdes, timestamps taken from the records by a function, JSON output, and checkpoint retention
/// by count, each in a running job against the live broker, read back by a plain Confluent.Kafka consumer.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class SerdesAndTimestampsTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    public sealed record WindowCount(string Key, long Start, int Count);

    /// <summary>A user-written serde: a long as 8 bytes, big-endian.</summary>
    private static readonly Serde<long> BigEndianLong = Serdes.Create<long>(
        value =>
        {
            var bytes = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(bytes, value);
            return bytes;
        },
        bytes => BinaryPrimitives.ReadInt64BigEndian(bytes));

    [Fact]
    public async Task byte_keys_a_user_serde_and_timestamps_from_the_values_drive_event_time_windows_whose_results_are_written_as_json()
    {
        string input = Kafka.NewTopic("events"), output = Kafka.NewTopic("window-counts");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        // The value is the event's time; the Kafka timestamps run backwards, so windows by Kafka time would find all
        // but the first record late.
        (string Key, long At)[] events = [("k1", 100), ("k2", 200), ("k1", 900), ("k1", 1500), ("end", 5000)];
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build())
            foreach (var (key, at) in events)
                await producer.ProduceAsync(new TopicPartition(input, 0), new Message<byte[], byte[]>
                {
                    Key = Encoding.UTF8.GetBytes(key),
                    Value = BigEndianLong.Serialize(at)!,
                    Timestamp = new Timestamp(7_000_000 - at, TimestampType.CreateTime),
                });

        var job = StreamJob.Create(new StreamJobOptions { BootstrapServers = fixture.Broker.BootstrapServers, JobName = Kafka.NewTopic("serdes") });
        job.FromKafka([input], StartFrom.Earliest, Serdes.Bytes, BigEndianLong,
                WatermarkStrategy<KafkaRecord<byte[]?, long>>.ForMonotonousTimestamps().WithTimestampAssigner((record, _) => record.Value))
            .KeyBy(record => Encoding.UTF8.GetString(record.Key!))
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(1)))
            .Aggregate(() => 0, (count, _) => count + 1, (key, window, count) => new WindowCount(key, window.Start, count))
            .ToKafka(output, c => Encoding.UTF8.GetBytes(c.Key), Serdes.Bytes, Serdes.Json<WindowCount>());
        await using var running = new RunningJob(job);
        await _kafka.ReadAsync(output, 1, 3, running.Run);
        await running.StopAsync();

        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            GroupId = Kafka.NewTopic("reader"),
            EnablePartitionEof = true,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(output, 0, Offset.Beginning));
        var results = new List<string>();
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (consumer.Consume(deadline - DateTime.UtcNow) is { IsPartitionEOF: false } record)
        {
            using var json = JsonDocument.Parse(record.Message.Value);
            var value = json.RootElement;
            Assert.Equal(Encoding.UTF8.GetString(record.Message.Key), value.GetProperty("Key").GetString());
            results.Add($"{value.GetProperty("Key").GetString()}@{value.GetProperty("Start").GetInt64()}:{value.GetProperty("Count").GetInt32()}"
                + $" stamped {record.Message.Timestamp.UnixTimestampMs}");
        }
        // The end's window (5000-5999) is still open: the watermark is at 4999.
        Assert.Equal(["k1@0:2 stamped 999", "k1@1000:1 stamped 1999", "k2@0:1 stamped 999"], results.Order());
    }

    [Fact]
    public async Task a_job_without_keeper_keeps_the_newest_retained_checkpoints_and_their_state_files_and_removes_the_rest()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        string checkpoints = Path.Combine(_directory, "checkpoints");
        var job = StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = Kafka.NewTopic("retention"),
            CheckpointDirectory = checkpoints,
            CheckpointInterval = TimeSpan.FromMilliseconds(100),
            RetainedCheckpoints = 3,
            StateBackend = StateBackend.OnDisk(Path.Combine(_directory, "state"), 1 << 20),
        });
        WordCountJob.Define(job, input, output);
        await using var running = new RunningJob(job);
        await _kafka.ProduceAsync(input, ["to be or not to be"]);
        await _kafka.ReadAsync(output, 1, 6, running.Run);
        var storage = new CheckpointStorage(checkpoints);
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (Latest(storage) < 8)
        {
            if (running.Run.IsCompleted) await running.Run;
            Assert.True(DateTime.UtcNow < deadline, "the job did not complete 8 checkpoints");
            await Task.Delay(50);
        }
        await running.StopAsync();

        long[] kept = [.. Directory.GetFiles(checkpoints, "chk-*.json").Select(f => long.Parse(Path.GetFileNameWithoutExtension(f)["chk-".Length..])).Order()];
        long newest = kept[^1];
        Assert.True(newest >= 8);
        Assert.Equal([newest - 2, newest - 1, newest], kept);
        // Each kept checkpoint has its state files (state on disk is written beside the checkpoint); no others are left.
        long[] stateDirectories = [.. Directory.GetDirectories(checkpoints, "chk-*.state").Select(d => long.Parse(Path.GetFileName(d)["chk-".Length..^".state".Length])).Order()];
        Assert.Equal(kept, stateDirectories);
    }

    private static long Latest(CheckpointStorage storage)
    {
        try
        {
            return storage.LoadLatest()?.Id ?? 0;
        }
        catch (IOException)
        {
            return 0; // replaced by a newer one while being read
        }
    }
}
