using System.Text.Json;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Examples.SeedJob;
using Quill.Streams.Examples.WordCount;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Tests;

/// <summary>Jobs run against a real broker; what they write is read back by a plain Confluent.Kafka consumer.</summary>
[Collection(BrokerCollection.Name)]
public sealed class StreamJobTests(BrokerFixture fixture)
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);

    private StreamJob NewJob(int parallelism = 1, string? groupId = null) => StreamJob.Create(new StreamJobOptions
    {
        BootstrapServers = fixture.Broker.BootstrapServers,
        JobName = Kafka.NewTopic("job"),
        Parallelism = parallelism,
        GroupId = groupId,
    });

    private async Task<(string Input, string Output)> TopicsAsync(int inputPartitions, int outputPartitions)
    {
        string input = Kafka.NewTopic("in"), output = Kafka.NewTopic("out");
        await _kafka.CreateTopicAsync(input, inputPartitions);
        await _kafka.CreateTopicAsync(output, outputPartitions);
        return (input, output);
    }

    [Fact]
    public async Task the_seed_job_writes_each_string_with_its_length_as_json_keyed_by_the_string()
    {
        var (input, output) = await TopicsAsync(2, 1);
        string[] values = ["a", "quill", "", "stream processing"];
        await _kafka.ProduceAsync(input, values, partitions: 2);

        var job = NewJob();
        SeedJob.Define(job, input, output);
        await using var running = new RunningJob(job);
        var records = await _kafka.ReadAsync(output, 1, values.Length, running.Run);

        var written = records.Select(r => (r.Message.Key, JsonSerializer.Deserialize<ValueLength>(r.Message.Value!)!)).ToList();
        Assert.Equal(values.Order(), written.Select(w => w.Key!).Order());
        Assert.All(written, w => Assert.Equal(new ValueLength(w.Key!, w.Key!.Length), w.Item2));
    }

    private static readonly string[] Lines =
    [
        "the quick brown fox",
        "jumps over the lazy dog",
        "the dog barks",
        "  fox   and dog  ",
        "the end",
    ];

    /// <summary>Each word's counts as written, in the order the output partition holds them.</summary>
    private static Dictionary<string, List<long>> CountsByWord(IEnumerable<Confluent.Kafka.ConsumeResult<string?, string?>> records) =>
        records.GroupBy(r => r.Message.Key!).ToDictionary(g => g.Key, g => g.OrderBy(r => r.Offset.Value).Select(r => long.Parse(r.Message.Value!)).ToList());

    private async Task WordCountWritesRunningCountsAsync(int parallelism)
    {
        var (input, output) = await TopicsAsync(3, 2);
        await _kafka.ProduceAsync(input, Lines, partitions: 3);
        var expected = Lines.SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).CountBy(w => w).ToDictionary();

        var job = NewJob(parallelism);
        WordCountJob.Define(job, input, output);
        await using var running = new RunningJob(job);
        var records = await _kafka.ReadAsync(output, 2, expected.Values.Sum(), running.Run);
        await running.StopAsync();

        // One record per word occurrence, and each word's records count 1, 2, ... up to its total, in order (a key is
        // counted by one task and written to one partition).
        Assert.Equal(expected.Values.Sum(), _kafka.ReadAll(output, 2).Count);
        var counts = CountsByWord(records);
        Assert.Equal(expected.Keys.Order(), counts.Keys.Order());
        foreach (var (word, total) in expected) Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), counts[word]);
    }

    [Fact]
    public Task word_count_writes_each_words_running_count_up_to_its_exact_total() => WordCountWritesRunningCountsAsync(parallelism: 1);

    [Fact]
    public Task word_count_with_three_parallel_tasks_writes_the_same_counts() => WordCountWritesRunningCountsAsync(parallelism: 3);

    [Fact]
    public async Task filter_and_flat_map_pass_on_only_the_words_that_match()
    {
        var (input, output) = await TopicsAsync(1, 1);
        await _kafka.ProduceAsync(input, ["alpha be gamma", "", "delta e", "zeta"]);

        var job = NewJob();
        job.FromKafka(input, Serdes.String)
            .FlatMap(line => line!.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Filter(word => word.Length > 2)
            .Map(word => word.ToUpperInvariant())
            .ToKafka(output, Serdes.String!);
        await using var running = new RunningJob(job);
        var records = await _kafka.ReadAsync(output, 1, 4, running.Run);
        await running.StopAsync();

        Assert.Equal(["ALPHA", "GAMMA", "DELTA", "ZETA"], records.Select(r => r.Message.Value));
        Assert.Equal(4, _kafka.ReadAll(output, 1).Count);
    }

    [Fact]
    public async Task an_event_time_timer_fires_when_the_watermark_passes_it_with_what_the_list_state_gathered()
    {
        var (input, output) = await TopicsAsync(1, 1);
        // One-second buckets per key; a@800 arrives after a@1500 but within the 1 s bound, so it still makes bucket 0.
        // c@5000 moves the watermark to 3999: buckets ending 999 and 1999 fire, c's bucket (5999) does not.
        await _kafka.ProduceAsync(input,
        [
            new Input("a", "x", 0, 100), new Input("b", "y", 0, 200), new Input("a", "w", 0, 1500),
            new Input("a", "z", 0, 800), new Input("c", "flush", 0, 5000),
        ]);

        var job = NewJob();
        job.FromKafka([input], StartFrom.Earliest, Serdes.String, Serdes.String,
                WatermarkStrategy<KafkaRecord<string?, string?>>.ForBoundedOutOfOrderness(TimeSpan.FromSeconds(1)))
            .KeyBy(r => r.Key!)
            .Process<string>((record, context) =>
            {
                long bucketEnd = context.Timestamp / 1000 * 1000 + 999;
                context.State.GetListState<string>($"bucket-{bucketEnd}").Add(record.Value!);
                context.Timers.RegisterEventTimeTimer(bucketEnd);
            }, (time, context) =>
            {
                var bucket = context.State.GetListState<string>($"bucket-{time}");
                context.Emit($"{context.Key}@{time}:{string.Join(',', bucket.Get())}:{context.TimerDomain}");
                bucket.Clear();
            })
            .ToKafka(output, Serdes.String!);
        await using var running = new RunningJob(job);
        var records = await _kafka.ReadAsync(output, 1, 3, running.Run);

        Assert.Equal(["a@1999:w:EventTime", "a@999:x,z:EventTime", "b@999:y:EventTime"], records.Select(r => r.Message.Value).Order());
        // An output of a timer carries the timer's time.
        Assert.All(records, r => Assert.EndsWith("999", r.Message.Timestamp.UnixTimestampMs.ToString()));
        await running.StopAsync();
        Assert.Equal(3, _kafka.ReadAll(output, 1).Count);
    }

    [Fact]
    public async Task a_processing_time_timer_fires_after_its_delay_and_sees_the_keys_value_state()
    {
        var (input, output) = await TopicsAsync(2, 1);
        await _kafka.ProduceAsync(input, [new Input("a", "x", 0, null), new Input("b", "y", 1, null)]);

        var job = NewJob(parallelism: 2);
        job.FromKafka([input], StartFrom.Earliest, Serdes.String, Serdes.String)
            .KeyBy(r => r.Key!)
            .Process<string>((record, context) =>
            {
                context.State.GetValueState<string>("seen").Value = record.Value;
                context.Timers.RegisterProcessingTimeTimer(context.Timers.CurrentProcessingTime + 300);
            }, (time, context) =>
            {
                bool due = context.Timers.CurrentProcessingTime >= time;
                context.Emit($"{context.Key}:{context.State.GetValueState<string>("seen").Value}:{context.TimerDomain}:due={due}");
            })
            .ToKafka(output, Serdes.String!);
        await using var running = new RunningJob(job);
        var records = await _kafka.ReadAsync(output, 1, 2, running.Run);

        Assert.Equal(["a:x:ProcessingTime:due=True", "b:y:ProcessingTime:due=True"], records.Select(r => r.Message.Value).Order());
    }

    [Fact]
    public async Task a_job_started_from_committed_offsets_reads_only_what_came_after_its_last_clean_stop()
    {
        var (input, output) = await TopicsAsync(2, 1);
        string group = Kafka.NewTopic("group");
        StreamJob Job()
        {
            var job = NewJob(groupId: group);
            job.FromKafka([input], StartFrom.Committed, Serdes.String, Serdes.String).Map(r => r.Value!).ToKafka(output, Serdes.String!);
            return job;
        }

        await _kafka.ProduceAsync(input, ["v1", "v2", "v3"], partitions: 2);
        await using (var first = new RunningJob(Job()))
        {
            await _kafka.ReadAsync(output, 1, 3, first.Run);
            await first.StopAsync();
        }
        await _kafka.ProduceAsync(input, ["v4", "v5"], partitions: 2);
        await using (var second = new RunningJob(Job()))
        {
            await _kafka.ReadAsync(output, 1, 5, second.Run);
            await second.StopAsync();
        }

        Assert.Equal(["v1", "v2", "v3", "v4", "v5"], _kafka.ReadAll(output, 1).Select(r => r.Message.Value).Order());
    }

    [Fact]
    public async Task a_function_that_throws_fails_the_job_with_its_exception()
    {
        var (input, output) = await TopicsAsync(1, 1);
        await _kafka.ProduceAsync(input, ["fine", "bad"]);

        var job = NewJob(parallelism: 2);
        job.FromKafka(input, Serdes.String)
            .KeyBy(v => v!)
            .Process<string>((value, context) =>
            {
                if (value == "bad") throw new FormatException("cannot handle 'bad'");
                context.Emit(value!);
            })
            .ToKafka(output, Serdes.String!);
        await using var running = new RunningJob(job);

        var failure = await Assert.ThrowsAsync<FormatException>(() => running.Run.WaitAsync(Kafka.Timeout));
        Assert.Equal("cannot handle 'bad'", failure.Message);
    }

    [Fact]
    public async Task a_union_of_two_topics_feeds_one_keyed_function_that_sends_short_words_to_a_side_output()
    {
        var (left, output) = await TopicsAsync(2, 1);
        string right = Kafka.NewTopic("in"), shortWords = Kafka.NewTopic("short");
        await _kafka.CreateTopicAsync(right, 1);
        await _kafka.CreateTopicAsync(shortWords, 1);
        await _kafka.ProduceAsync(left, ["stream", "of", "quill"], partitions: 2);
        await _kafka.ProduceAsync(right, ["quill", "is", "stream", "quill"]);

        var job = NewJob(parallelism: 2);
        var shortTag = new OutputTag<string>("short");
        var counted = job.FromKafka(left, Serdes.String)
            .Union(job.FromKafka(right, Serdes.String).Map(w => w!.ToUpperInvariant()).Map(w => (string?)w.ToLowerInvariant()))
            .KeyBy(w => w!)
            .Process<string>((word, context) =>
            {
                if (word!.Length < 3)
                {
                    context.Output(shortTag, word);
                    return;
                }
                var count = context.State.GetValueState<int>("count");
                count.Value++;
                context.Emit($"{word}:{count.Value}");
            });
        counted.ToKafka(output, Serdes.String!);
        counted.GetSideOutput(shortTag).ToKafka(shortWords, Serdes.String!);
        await using var running = new RunningJob(job);
        var records = await _kafka.ReadAsync(output, 1, 5, running.Run);
        var shortRecords = await _kafka.ReadAsync(shortWords, 1, 2, running.Run);
        // The stop ends both inputs of every keyed task (two lanes of two source tasks each) and drains them.
        await running.StopAsync();

        Assert.Equal(["quill:1", "quill:2", "quill:3", "stream:1", "stream:2"], records.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["is", "of"], shortRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(5, _kafka.ReadAll(output, 1).Count);
        Assert.Throws<InvalidOperationException>(() => NewJob().FromKafka(left, Serdes.String).GetSideOutput(shortTag));
    }
}
