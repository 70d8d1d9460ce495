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
/// Event-time temporal joins of a stream with a versioned table over a real broker: inputs with explicit timestamps
/// written, and outputs read back, by plain Confluent.Kafka clients. Each order is joined with the rate its currency
/// had at the order's time, whatever the job had read of the table when the order came.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class TemporalJoinTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-tj-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private StreamJob NewJob(string jobName, int parallelism = 2) => StreamJob.Create(new StreamJobOptions
    {
        BootstrapServers = fixture.Broker.BootstrapServers,
        JobName = jobName,
        Parallelism = parallelism,
        CheckpointDirectory = _directory,
        CheckpointInterval = TimeSpan.FromMilliseconds(100),
    });

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(1);

    /// <summary>Orders (key: the currency, value: the order's name), event time the Kafka timestamp, up to 1 s out of order.</summary>
    private static KeyedStream<string, KafkaRecord<string?, string?>> Orders(StreamJob job, string topic) =>
        job.FromKafka([topic], StartFrom.Earliest, Serdes.String, Serdes.String,
            WatermarkStrategy<KafkaRecord<string?, string?>>.ForBoundedOutOfOrderness(Bound)).KeyBy(o => o.Key!);

    /// <summary>Rates (key: the currency, value: the rate, null deleting it) as a versioned table, up to 1 s out of order.</summary>
    private static KafkaTable<string, string?> Rates(StreamJob job, string topic) =>
        job.TableFromKafka(topic, Serdes.String!, Serdes.String, WatermarkStrategy<KafkaRecord<string, string?>>.ForBoundedOutOfOrderness(Bound));

    private static Input At(string key, string? value, long timestamp) => new(key, value, 0, timestamp);

    /// <summary>The output as "value@timestamp", sorted.</summary>
    private List<string> ReadOutput(string topic) =>
        [.. _kafka.ReadToEnd(topic, 1, IsolationLevel.ReadCommitted).Select(r => $"{r.Message.Value}@{r.Message.Timestamp.UnixTimestampMs}").Order()];

    private async Task<Checkpoint> WaitForCheckpointCoveringAsync(long records, Task job)
    {
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (CheckpointProgress.Records(_directory) < records)
        {
            if (job.IsCompleted) await job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no checkpoint covered {records} input records");
            await Task.Delay(20);
        }
        return new CheckpointStorage(_directory).LoadLatest()!;
    }

    [Fact]
    public async Task an_order_joins_the_rate_valid_at_its_time_though_a_later_rate_was_read_first_inner_and_left_and_old_versions_are_dropped()
    {
        string rates = Kafka.NewTopic("rates"), orders = Kafka.NewTopic("orders"), inner = Kafka.NewTopic("inner"), left = Kafka.NewTopic("left"),
            retained = Kafka.NewTopic("retained");
        foreach (string topic in new[] { rates, orders, inner, left, retained }) await _kafka.CreateTopicAsync(topic, 1);
        // EUR changes at 1000 and 3000; GBP exists from 2000 (written after EUR's 3000: out of order within the bound) and
        // is deleted at 4000; CHF never has a rate. z@10000 moves the table's event time to 8999.
        await _kafka.ProduceAsync(rates,
            [At("EUR", "1.10", 1000), At("EUR", "1.20", 3000), At("GBP", "0.80", 2000), At("GBP", null, 4000), At("z", "1", 10000)]);

        var job = NewJob(Kafka.NewTopic("temporal"));
        var table = Rates(job, rates);
        var keyed = Orders(job, orders);
        keyed.TemporalJoin(table, (order, rate) => $"{order.Value} {rate}").Uid("inner").ToKafka(inner, Serdes.String!);
        keyed.TemporalLeftJoin(table, (order, rate) => $"{order.Value} {rate ?? "(none)"}").Uid("left").ToKafka(left, Serdes.String!);
        // The same left join keeping a deleted key for 2 s of event time: GBP (deleted at 4000) is gone at 8999.
        keyed.TemporalLeftJoin(table, (order, rate) => $"{order.Value} {rate ?? "(none)"}", deletedKeyRetention: TimeSpan.FromSeconds(2))
            .Uid("retained").ToKafka(retained, Serdes.String!);
        await using var running = new RunningJob(job);
        // The whole table is read (a checkpoint covers it) before any order is written: EUR's 1.20 from 3000 is in the
        // job when o1 at 2500 comes, yet o1 gets 1.10.
        await WaitForCheckpointCoveringAsync(5, running.Run);

        // Out of order within the bound: o5 at 2100 after o1 at 2500, o4 at 1700 after o3 at 2600 (the watermark is then
        // 1599). o2 is exactly at EUR's change, o4 before GBP's first rate, o6 after GBP's deletion.
        await _kafka.ProduceAsync(orders,
        [
            At("EUR", "o1", 2500), At("GBP", "o5", 2100), At("CHF", "o3", 2600), At("GBP", "o4", 1700), At("EUR", "o2", 3000),
            At("GBP", "o6", 4500), At("z", "oz", 10000),
        ]);
        await _kafka.ReadAsync(inner, 1, 3, running.Run);
        await _kafka.ReadAsync(left, 1, 6, running.Run);
        await _kafka.ReadAsync(retained, 1, 6, running.Run);

        // Once a checkpoint covers every input (event time 8999), each key holds only its version valid at 8999 (a
        // tombstone for GBP) and z's, and only z's order still waits.
        var checkpoint = await WaitForCheckpointCoveringAsync(5 + 7, running.Run);
        foreach (string join in new[] { "inner", "left", "retained" })
        {
            var states = checkpoint.Operators[join].SelectMany(s => s.States).ToLookup(s => s.Key, s => s.Value);
            Assert.Equal(join == "retained" ? ["EUR:3000", "z:10000"] : ["EUR:3000", "GBP:4000", "z:10000"], states["temporal-join-versions"].SelectMany(entries => entries)
                .SelectMany(e => e[1].EnumerateArray().Select(version => $"{e[0].GetString()}:{version[0].GetInt64()}")).Order());
            Assert.Equal(["z"], states["temporal-join-records"].SelectMany(entries => entries).Select(e => e[0].GetString()));
        }
        await running.StopAsync();

        // Each result carries its order's timestamp.
        Assert.Equal(["o1 1.10@2500", "o2 1.20@3000", "o5 0.80@2100"], ReadOutput(inner));
        Assert.Equal(["o1 1.10@2500", "o2 1.20@3000", "o3 (none)@2600", "o4 (none)@1700", "o5 0.80@2100", "o6 (none)@4500"], ReadOutput(left));
        Assert.Equal(ReadOutput(left), ReadOutput(retained));
    }

    [Fact]
    public async Task a_temporal_join_restored_from_a_checkpoint_at_another_parallelism_joins_the_orders_that_were_waiting_with_their_versions()
    {
        string rates = Kafka.NewTopic("rates"), orders = Kafka.NewTopic("orders"), output = Kafka.NewTopic("priced");
        foreach (string topic in new[] { rates, orders, output }) await _kafka.CreateTopicAsync(topic, 1);
        string jobName = Kafka.NewTopic("temporal");
        StreamJob Job(int parallelism)
        {
            var job = NewJob(jobName, parallelism);
            Orders(job, orders).TemporalJoin(Rates(job, rates), (order, rate) => $"{order.Value} {rate}").ToKafka(output, Serdes.String!);
            return job;
        }

        // The first run: event time reaches 2999 (the table's), so o1 is joined; o2 and o3 wait in the join's state.
        await _kafka.ProduceAsync(rates, [At("EUR", "1.10", 1000), At("EUR", "1.20", 3000), At("GBP", "0.80", 4000)]);
        await _kafka.ProduceAsync(orders, [At("EUR", "o1", 2000), At("EUR", "o2", 3500), At("GBP", "o3", 5000)]);
        await using (var first = new RunningJob(Job(2)))
        {
            await _kafka.ReadAsync(output, 1, 1, first.Run);
            await WaitForCheckpointCoveringAsync(3 + 3, first.Run);
        }
        Assert.Equal(["o1 1.10@2000"], ReadOutput(output));

        // Restored with three tasks: EUR changes again at 4500, after o2's time, and z@20000 on both sides moves event
        // time past every order. o2 still gets the rate of its time, from the restored versions.
        await _kafka.ProduceAsync(rates, [At("EUR", "1.30", 4500), At("z", "1", 20000)]);
        await _kafka.ProduceAsync(orders, [At("EUR", "o4", 4600), At("z", "oz", 20000)]);
        await using (var second = new RunningJob(Job(3)))
        {
            await _kafka.ReadAsync(output, 1, 4, second.Run);
        }
        Assert.Equal(["o1 1.10@2000", "o2 1.20@3500", "o3 0.80@5000", "o4 1.30@4600"], ReadOutput(output));
    }

    [Fact]
    public void a_temporal_join_refuses_a_table_read_without_a_watermark_strategy()
    {
        var job = NewJob("refused");
        var table = job.TableFromKafka<string, string?>("rates", Serdes.String!, Serdes.String);
        var error = Assert.Throws<ArgumentException>(() => Orders(job, "orders").TemporalJoin(table, (order, rate) => rate));
        Assert.Contains("watermark strategy", error.Message);
    }

    [Fact]
    public async Task the_enrich_clicks_example_by_event_time_gives_each_click_the_name_its_user_had_at_the_click()
    {
        string users = Kafka.NewTopic("users"), clicks = Kafka.NewTopic("clicks"), output = Kafka.NewTopic("enriched");
        foreach (string topic in new[] { users, clicks, output }) await _kafka.CreateTopicAsync(topic, 1);
        await _kafka.ProduceAsync(users, [At("u1", "Alice", 1000), At("u2", "Bob", 1000), At("u1", "Alicia", 5000)]);

        var job = NewJob(Kafka.NewTopic("enrich"));
        EnrichClicksJob.Define(job, clicks, users, output, outOfOrderness: TimeSpan.FromSeconds(1), tableIdleness: TimeSpan.FromSeconds(1));
        await using var running = new RunningJob(job);
        await WaitForCheckpointCoveringAsync(3, running.Run);
        // The table then goes idle, so the clicks' event time (58999 after "later") drives the join: every click but
        // "later" is joined. u1 was renamed at 5000: "home" at 3000 gets the old name.
        await _kafka.ProduceAsync(clicks,
        [
            At("u1", "home", 3000), At("u2", "cart", 3000), At("u3", "help", 3000), new(null, "no user", 0, 3000), At("u1", "buy", 6000),
            At("u1", "later", 60000),
        ]);
        await _kafka.ReadAsync(output, 1, 4, running.Run);
        await running.StopAsync();

        Assert.Equal(
        [
            "u1 {\"User\":\"u1\",\"Name\":\"Alice\",\"Page\":\"home\"}", "u1 {\"User\":\"u1\",\"Name\":\"Alicia\",\"Page\":\"buy\"}",
            "u2 {\"User\":\"u2\",\"Name\":\"Bob\",\"Page\":\"cart\"}", "u3 {\"User\":\"u3\",\"Name\":null,\"Page\":\"help\"}",
        ], _kafka.ReadToEnd(output, 1, IsolationLevel.ReadCommitted).Select(r => $"{r.Message.Key} {r.Message.Value}").Order());
    }
}
