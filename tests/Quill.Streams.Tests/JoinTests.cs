using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Examples.EnrichClicks;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Tests;

/// <summary>
/// Window joins, interval joins and stream-table joins over a real broker: inputs written and outputs read back by
/// plain Confluent.Kafka clients. The event-time joins get their input out of order; late records are written only
/// once an output shows that event time has passed them.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class JoinTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private StreamJob NewJob(string? checkpointDirectory = null, string? jobName = null) => StreamJob.Create(new StreamJobOptions
    {
        BootstrapServers = fixture.Broker.BootstrapServers,
        JobName = jobName ?? Kafka.NewTopic("joins"),
        Parallelism = 2,
        CheckpointDirectory = checkpointDirectory,
        CheckpointInterval = TimeSpan.FromMilliseconds(100),
    });

    /// <summary>A source of "label" values keyed by the Kafka key, event time the Kafka timestamp, records up to <paramref name="outOfOrder"/> out of order.</summary>
    private static DataStream<KafkaRecord<string?, string?>> Source(StreamJob job, string topic, TimeSpan outOfOrder) =>
        job.FromKafka([topic], StartFrom.Earliest, Serdes.String, Serdes.String,
            WatermarkStrategy<KafkaRecord<string?, string?>>.ForBoundedOutOfOrderness(outOfOrder));

    private static Input At(string key, string label, long timestamp) => new(key, label, 0, timestamp);

    /// <summary>The output as "value@timestamp", in order.</summary>
    private List<string> ReadOutput(string topic) =>
        [.. _kafka.ReadToEnd(topic, 1, IsolationLevel.ReadCommitted).Select(r => $"{r.Message.Value}@{r.Message.Timestamp.UnixTimestampMs}").Order()];

    [Fact]
    public async Task a_tumbling_window_join_pairs_each_windows_records_of_a_key_once_the_watermark_passes_and_drops_late_records()
    {
        string left = Kafka.NewTopic("left"), right = Kafka.NewTopic("right"), output = Kafka.NewTopic("joined");
        foreach (string topic in new[] { left, right, output }) await _kafka.CreateTopicAsync(topic, 1);
        // Windows of 2 s, records up to 1 s out of order: l3@500 comes after l2@2500 (the watermark 1499 has not reached
        // its window's end), and z@6000 on both sides moves event time to 4999, closing [0, 2000) and [2000, 4000).
        await _kafka.ProduceAsync(left, [At("a", "l1", 1000), At("b", "l2", 2500), At("a", "l3", 500), At("z", "lz", 6000)]);
        await _kafka.ProduceAsync(right, [At("a", "r1", 1500), At("b", "r2", 2100), At("a", "r3", 3000), At("z", "rz", 6000)]);

        var job = NewJob();
        var lefts = Source(job, left, TimeSpan.FromSeconds(1));
        var rights = Source(job, right, TimeSpan.FromSeconds(1));
        lefts.Join(rights)
            .Where(l => l.Key!)
            .EqualTo(r => r.Key!)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(2)))
            .Apply((l, r) => $"{l.Value}+{r.Value}")
            .ToKafka(output, Serdes.String!);
        await using var running = new RunningJob(job);
        await _kafka.ReadAsync(output, 1, 3, running.Run);

        // Event time is past 3999 now: a@3500 and a@3600 are late for [2000, 4000), which has fired (joined, they would
        // fire it again at once). z@9000 on both sides then closes [6000, 8000).
        await _kafka.ProduceAsync(left, [At("a", "l4", 3500), At("z", "lz2", 9000)]);
        await _kafka.ProduceAsync(right, [At("a", "r4", 3600), At("z", "rz2", 9000)]);
        await _kafka.ReadAsync(output, 1, 4, running.Run);
        await running.StopAsync();

        // Each pair stamped with its window's last millisecond; r3 has no left record in its window; l4, r4 were late.
        Assert.Equal(["l1+r1@1999", "l2+r2@3999", "l3+r1@1999", "lz+rz@7999"], ReadOutput(output));
    }

    [Fact]
    public async Task a_window_join_restarted_from_its_checkpoint_joins_the_records_its_open_windows_held()
    {
        string left = Kafka.NewTopic("left"), right = Kafka.NewTopic("right"), output = Kafka.NewTopic("joined");
        foreach (string topic in new[] { left, right, output }) await _kafka.CreateTopicAsync(topic, 1);
        string jobName = Kafka.NewTopic("window-join");
        StreamJob Job()
        {
            var job = NewJob(_directory, jobName);
            Source(job, left, TimeSpan.FromSeconds(1)).Join(Source(job, right, TimeSpan.FromSeconds(1)))
                .Where(l => l.Key!)
                .EqualTo(r => r.Key!)
                .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(2)))
                .Apply((l, r) => $"{l.Value}+{r.Value}")
                .ToKafka(output, Serdes.String!);
            return job;
        }

        // The first run only buffers: event time stays below 2000, so window [0, 2000) is open when it stops.
        await _kafka.ProduceAsync(left, [At("a", "l1", 1000), At("b", "l2", 1200)]);
        await _kafka.ProduceAsync(right, [At("a", "r1", 1500)]);
        await using (var first = new RunningJob(Job()))
        {
            await WaitForCheckpointCoveringAsync(3, first.Run);
        }
        Assert.Empty(_kafka.ReadToEnd(output, 1, IsolationLevel.ReadCommitted));

        await _kafka.ProduceAsync(right, [At("b", "r2", 1300), At("z", "rz", 5000)]);
        await _kafka.ProduceAsync(left, [At("z", "lz", 5000)]);
        await using (var second = new RunningJob(Job()))
        {
            await _kafka.ReadAsync(output, 1, 2, second.Run);
        }
        Assert.Equal(["l1+r1@1999", "l2+r2@1999"], ReadOutput(output));
    }

    [Fact]
    public async Task an_interval_join_pairs_records_within_the_bounds_of_each_other_and_drops_its_state_once_the_watermark_passes()
    {
        string clicks = Kafka.NewTopic("clicks"), orders = Kafka.NewTopic("orders"), output = Kafka.NewTopic("joined");
        foreach (string topic in new[] { clicks, orders, output }) await _kafka.CreateTopicAsync(topic, 1);
        // An order joins a click of its key when it is at most 1 s before and at most 2 s after it. Orders come out of
        // order (within the 5 s bound): o1@3500 is 2.5 s after c1, o2@2900 and o3@500 are in range; o4@3999 is 1001 ms
        // before c2@5000, o5@4000 and o6@7000 are on its bounds. z@20000 on both sides moves event time to 14999.
        await _kafka.ProduceAsync(clicks, [At("a", "c1", 1000), At("b", "c2", 5000), At("z", "cz", 20000)]);
        await _kafka.ProduceAsync(orders,
        [
            At("a", "o1", 3500), At("a", "o2", 2900), At("a", "o3", 500), At("b", "o4", 3999), At("b", "o5", 4000), At("b", "o6", 7000),
            At("z", "oz", 20000),
        ]);

        var job = NewJob(_directory);
        var clickStream = Source(job, clicks, TimeSpan.FromSeconds(5)).KeyBy(c => c.Key!);
        var orderStream = Source(job, orders, TimeSpan.FromSeconds(5)).KeyBy(o => o.Key!);
        clickStream.IntervalJoin(orderStream)
            .Between(TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(2))
            .Process((click, order) => $"{click.Value}+{order.Value}")
            .ToKafka(output, Serdes.String!);
        await using var running = new RunningJob(job);
        await _kafka.ReadAsync(output, 1, 5, running.Run);

        // Once a checkpoint covers every input, the join's state holds only z's records: each of the others was removed
        // when event time passed the last time it could match (a click at t + 2 s, an order at t + 1 s).
        var checkpoint = await WaitForCheckpointCoveringAsync(3 + 7, running.Run);
        var states = checkpoint.Operators.Values.Single().SelectMany(s => s.States)
            .ToLookup(s => s.Key, s => s.Value.Select(entry => entry[0].GetString()));
        Assert.Equal(["z"], states["interval-join-left"].SelectMany(keys => keys));
        Assert.Equal(["z"], states["interval-join-right"].SelectMany(keys => keys));

        // Late (at or below the watermark 14999): c3 and o7 are dropped, though they are within each other's bounds.
        await _kafka.ProduceAsync(clicks, [At("a", "c3", 14000), At("z", "cz2", 30000)]);
        await _kafka.ProduceAsync(orders, [At("a", "o7", 14500), At("z", "oz2", 30000)]);
        await _kafka.ReadAsync(output, 1, 6, running.Run);
        await running.StopAsync();

        // Each result carries the later of its two timestamps.
        Assert.Equal(["c1+o2@2900", "c1+o3@1000", "c2+o5@5000", "c2+o6@7000", "cz+oz@20000", "cz2+oz2@30000"], ReadOutput(output));
    }

    private async Task<Checkpoint> WaitForCheckpointCoveringAsync(long records, Task job)
    {
        var storage = new CheckpointStorage(_directory);
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (true)
        {
            if (job.IsCompleted) await job;
            Checkpoint? checkpoint = null;
            try
            {
                checkpoint = storage.LoadLatest();
            }
            catch (IOException)
            {
                // The file listed was just replaced by a newer one.
            }
            if (checkpoint is not null && checkpoint.SourceOffsets.Values.Sum(p => p.Values.Sum()) >= records) return checkpoint;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no checkpoint covered {records} input records");
            await Task.Delay(20);
        }
    }

    private static readonly Dictionary<string, string> Compacted = new() { ["cleanup.policy"] = "compact" };

    [Fact]
    public async Task a_stream_joined_with_a_table_finds_each_keys_latest_value_inner_and_left_and_deleted_keys_are_gone()
    {
        string users = Kafka.NewTopic("users"), clicks = Kafka.NewTopic("clicks"), inner = Kafka.NewTopic("inner"), left = Kafka.NewTopic("left");
        await _kafka.CreateTopicAsync(users, 2, Compacted);
        await _kafka.CreateTopicAsync(clicks, 2);
        await _kafka.CreateTopicAsync(inner, 1);
        await _kafka.CreateTopicAsync(left, 1);
        // The table: u1 renamed, u2 deleted (a tombstone), u3 as written; u4 never there. Keys stay on their partition.
        await _kafka.ProduceAsync(users,
        [
            new("u1", "Alice", 0, null), new("u2", "Bob", 1, null), new("u3", "Carol", 0, null), new("u2", null, 1, null), new("u1", "Alicia", 0, null),
        ]);
        // Written before the job starts, so the clicks are there as soon as the table: the table is loaded first.
        await _kafka.ProduceAsync(clicks, [new("u1", "home", 0, null), new("u2", "cart", 1, null), new("u3", "buy", 0, null), new("u4", "help", 1, null)]);

        var job = NewJob();
        var table = job.TableFromKafka<string, string?>(users, Serdes.String!, Serdes.String);
        var keyed = job.FromKafka([clicks], StartFrom.Earliest, Serdes.String, Serdes.String).KeyBy(c => c.Key!);
        keyed.Join(table, (click, name) => $"{click.Value} {name}").ToKafka(inner, Serdes.String!);
        keyed.LeftJoin(table, (click, name) => $"{click.Value} {name ?? "(none)"}").ToKafka(left, Serdes.String!);
        await using var running = new RunningJob(job);
        await _kafka.ReadAsync(inner, 1, 2, running.Run);
        await _kafka.ReadAsync(left, 1, 4, running.Run);
        await running.StopAsync();

        Assert.Equal(["buy Carol", "home Alicia"], _kafka.ReadToEnd(inner, 1, IsolationLevel.ReadCommitted).Select(r => r.Message.Value).Order());
        Assert.Equal(["buy Carol", "cart (none)", "help (none)", "home Alicia"],
            _kafka.ReadToEnd(left, 1, IsolationLevel.ReadCommitted).Select(r => r.Message.Value).Order());
    }

    [Fact]
    public async Task a_table_of_an_empty_topic_is_loaded_at_once_and_a_left_join_gives_every_record_without_a_value()
    {
        string users = Kafka.NewTopic("users"), clicks = Kafka.NewTopic("clicks"), output = Kafka.NewTopic("enriched");
        await _kafka.CreateTopicAsync(users, 3, Compacted);
        await _kafka.CreateTopicAsync(clicks, 1);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(clicks, [new("u1", "a", 0, null), new("u2", "b", 0, null)]);

        var job = NewJob();
        var table = job.TableFromKafka<string, string?>(users, Serdes.String!, Serdes.String);
        job.FromKafka([clicks], StartFrom.Earliest, Serdes.String, Serdes.String).KeyBy(c => c.Key!)
            .LeftJoin(table, (click, name) => $"{click.Value} {name ?? "(none)"}")
            .ToKafka(output, Serdes.String!);
        await using (var running = new RunningJob(job))
        {
            await _kafka.ReadAsync(output, 1, 2, running.Run);
        }
        Assert.Equal(["a (none)", "b (none)"], _kafka.ReadToEnd(output, 1, IsolationLevel.ReadCommitted).Select(r => r.Message.Value).Order());
    }

    [Fact]
    public async Task a_table_join_restarted_from_its_checkpoint_keeps_the_table_it_had_and_reads_on_from_the_checkpointed_offsets()
    {
        string users = Kafka.NewTopic("users"), clicks = Kafka.NewTopic("clicks"), output = Kafka.NewTopic("enriched");
        await _kafka.CreateTopicAsync(users, 1, Compacted);
        await _kafka.CreateTopicAsync(clicks, 1);
        await _kafka.CreateTopicAsync(output, 1);
        string jobName = Kafka.NewTopic("enrich");
        StreamJob Job()
        {
            var job = NewJob(_directory, jobName);
            var table = job.TableFromKafka<string, string?>(users, Serdes.String!, Serdes.String);
            job.FromKafka([clicks], StartFrom.Earliest, Serdes.String, Serdes.String).KeyBy(c => c.Key!)
                .LeftJoin(table, (click, name) => $"{click.Value} {name ?? "(none)"}")
                .ToKafka(output, Serdes.String!);
            return job;
        }

        await _kafka.ProduceAsync(users, [new("u1", "Alice", 0, null), new("u2", "Bob", 0, null)]);
        await _kafka.ProduceAsync(clicks, [new("u1", "a", 0, null), new("u2", "b", 0, null)]);
        await using (var first = new RunningJob(Job()))
        {
            await _kafka.ReadAsync(output, 1, 2, first.Run);
            await WaitForCheckpointCoveringAsync(2 + 2, first.Run);
        }

        // The restarted job reads both topics on from the checkpoint's offsets: u1's name comes from the restored
        // state only; u2's deletion and u3 are read (before any click) on top of it.
        await _kafka.ProduceAsync(users, [new("u2", null, 0, null), new("u3", "Carol", 0, null)]);
        await _kafka.ProduceAsync(clicks, [new("u1", "c", 0, null), new("u2", "d", 0, null), new("u3", "e", 0, null)]);
        await using (var second = new RunningJob(Job()))
        {
            await _kafka.ReadAsync(output, 1, 5, second.Run);
        }

        Assert.Equal(["a Alice", "b Bob", "c Alice", "d (none)", "e Carol"],
            _kafka.ReadToEnd(output, 1, IsolationLevel.ReadCommitted).Select(r => r.Message.Value).Order());
    }

    [Fact]
    public async Task the_enrich_clicks_example_writes_each_click_with_its_users_name_as_json()
    {
        string users = Kafka.NewTopic("users"), clicks = Kafka.NewTopic("clicks"), output = Kafka.NewTopic("enriched");
        await _kafka.CreateTopicAsync(users, 1, Compacted);
        await _kafka.CreateTopicAsync(clicks, 2);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(users, [new("u1", "Alice", 0, null), new("u2", "Bob", 0, null)]);
        await _kafka.ProduceAsync(clicks, [new("u1", "home", 0, null), new("u3", "cart", 1, null), new(null, "no user", 0, null)]);

        var job = NewJob();
        EnrichClicksJob.Define(job, clicks, users, output);
        await using (var running = new RunningJob(job))
        {
            await _kafka.ReadAsync(output, 1, 2, running.Run);
        }
        Assert.Equal(["u1 {\"User\":\"u1\",\"Name\":\"Alice\",\"Page\":\"home\"}", "u3 {\"User\":\"u3\",\"Name\":null,\"Page\":\"cart\"}"],
            _kafka.ReadToEnd(output, 1, IsolationLevel.ReadCommitted).Select(r => $"{r.Message.Key} {r.Message.Value}").Order());
    }
}
