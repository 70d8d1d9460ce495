using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Examples.UserSessions;
using Quill.Streams.Serialization;
using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Tests;

/// <summary>Event-time windows over a real broker, their results read back by a plain consumer.</summary>
[Collection(BrokerCollection.Name)]
public sealed class WindowTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private StreamJob NewJob(int parallelism, string? checkpointDirectory = null, bool stateOnDisk = false) => StreamJob.Create(new StreamJobOptions
    {
        BootstrapServers = fixture.Broker.BootstrapServers,
        JobName = Kafka.NewTopic("windows"),
        Parallelism = parallelism,
        CheckpointDirectory = checkpointDirectory,
        CheckpointInterval = TimeSpan.FromMilliseconds(100),
        StateBackend = stateOnDisk ? StateBackend.OnDisk(Path.Combine(_directory, "state"), 1 << 20) : StateBackend.InMemory,
    });

    private async Task CreateTopicsAsync(int inputPartitions, string input, params string[] outputs)
    {
        await _kafka.CreateTopicAsync(input, inputPartitions);
        foreach (string output in outputs) await _kafka.CreateTopicAsync(output, 1);
    }

    /// <summary>"sensor,reading" values as (Sensor, Reading).</summary>
    private static (string Sensor, long Reading) Parse(string? value) => (value!.Split(',')[0], long.Parse(value.Split(',')[1]));

    [Fact]
    public async Task tumbling_windows_emit_one_reduce_and_one_aggregate_per_key_and_window_once_the_watermark_passes_and_drop_late_records()
    {
        string input = Kafka.NewTopic("readings"), sums = Kafka.NewTopic("sums"), averages = Kafka.NewTopic("averages");
        foreach (string topic in new[] { input, sums, averages }) await _kafka.CreateTopicAsync(topic, 1);
        // Value "sensor,reading"; the timestamp is the Kafka timestamp. f@5000 moves the watermark to 4999, so s1@500
        // after it is late; f@10000 then closes every window up to 9999 (f's own first window among them).
        await _kafka.ProduceAsync(input,
        [
            new Input(null, "s1,1", 0, 100), new Input(null, "s2,10", 0, 200), new Input(null, "s1,2", 0, 900),
            new Input(null, "s2,20", 0, 999), new Input(null, "s1,5", 0, 1000), new Input(null, "f,0", 0, 5000),
            new Input(null, "s1,100", 0, 500), new Input(null, "f,0", 0, 10000),
        ]);

        var job = StreamJob.Create(new StreamJobOptions { BootstrapServers = fixture.Broker.BootstrapServers, JobName = Kafka.NewTopic("windows"), Parallelism = 2 });
        var windowed = job.FromKafka(input, Serdes.String, watermarks: WatermarkStrategy<string?>.ForMonotonousTimestamps())
            .Map(v => (Sensor: v!.Split(',')[0], Reading: long.Parse(v.Split(',')[1])))
            .KeyBy(r => r.Sensor)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(1)));
        windowed.Reduce((a, b) => (a.Sensor, a.Reading + b.Reading), (sensor, window, sum) => $"{sensor}@{window.Start}:{sum.Reading}")
            .ToKafka(sums, Serdes.String!);
        windowed.Aggregate(() => (Count: 0, Sum: 0L), (acc, r) => (acc.Count + 1, acc.Sum + r.Reading),
                (sensor, window, acc) => $"{sensor}@{window.Start}-{window.End}:{acc.Sum / (double)acc.Count}")
            .ToKafka(averages, Serdes.String!);
        await using var running = new RunningJob(job);
        var sumRecords = await _kafka.ReadAsync(sums, 1, 4, running.Run);
        var averageRecords = await _kafka.ReadAsync(averages, 1, 4, running.Run);
        await running.StopAsync();

        Assert.Equal(["f@5000:0", "s1@0:3", "s1@1000:5", "s2@0:30"], sumRecords.Select(r => r.Message.Value).Order());
        Assert.Equal(["f@5000-6000:0", "s1@0-1000:1.5", "s1@1000-2000:5", "s2@0-1000:15"], averageRecords.Select(r => r.Message.Value).Order());
        Assert.All(sumRecords, r => Assert.EndsWith("999", r.Message.Timestamp.UnixTimestampMs.ToString()));
        // Nothing more came after the stop flushed the sinks: the late reading made no second s1@0 result.
        Assert.Equal(4, _kafka.ReadAll(sums, 1).Count);
        Assert.Equal(4, _kafka.ReadAll(averages, 1).Count);
    }

    [Fact]
    public async Task with_idleness_partitions_that_get_no_records_stop_holding_back_event_time_and_windows_fire()
    {
        string input = Kafka.NewTopic("readings"), sums = Kafka.NewTopic("sums");
        await CreateTopicsAsync(3, input, sums);
        // Only partition 0 gets records. With parallelism 2, source task 0 reads partitions 0 and 2 (2 idle: left out of
        // its minimum) and task 1 reads partition 1 only (all idle: the keyed tasks go on without it).
        await _kafka.ProduceAsync(input,
        [
            new Input(null, "s1,1", 0, 100), new Input(null, "s1,2", 0, 900), new Input(null, "s1,5", 0, 1500), new Input(null, "f,0", 0, 5000),
        ]);

        var job = NewJob(parallelism: 2);
        job.FromKafka(input, Serdes.String, watermarks: WatermarkStrategy<string?>.ForMonotonousTimestamps().WithIdleness(TimeSpan.FromMilliseconds(300)))
            .Map(Parse)
            .KeyBy(r => r.Sensor)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(1)))
            .Reduce((a, b) => (a.Sensor, a.Reading + b.Reading), (sensor, window, sum) => $"{sensor}@{window.Start}:{sum.Reading}")
            .ToKafka(sums, Serdes.String!);
        await using var running = new RunningJob(job);
        var records = await _kafka.ReadAsync(sums, 1, 2, running.Run);
        await running.StopAsync();

        // The watermark reached 4999: the windows of s1 fired, f's (ending 5999) did not.
        Assert.Equal(["s1@0:3", "s1@1000:5"], records.Select(r => r.Message.Value).Order());
        Assert.Equal(2, _kafka.ReadAll(sums, 1).Count);
    }

    [Fact]
    public async Task a_late_record_within_the_allowed_lateness_fires_its_window_again_and_a_later_one_goes_to_the_late_side_output()
    {
        string input = Kafka.NewTopic("readings"), sums = Kafka.NewTopic("sums"), late = Kafka.NewTopic("late");
        await CreateTopicsAsync(1, input, sums, late);
        // Windows of 1 s, lateness 2 s. f@1500 fires a@0 (3); a@200 is late but within the lateness: a@0 fires again (13).
        // f@4000 passes 999 + 2000, so a@0 is gone and a@300 is too late: it goes to the side output, untouched.
        await _kafka.ProduceAsync(input,
        [
            new Input(null, "a,1", 0, 100), new Input(null, "a,2", 0, 500), new Input(null, "f,0", 0, 1500), new Input(null, "a,10", 0, 200),
            new Input(null, "f,0", 0, 4000), new Input(null, "a,100", 0, 300), new Input(null, "f,0", 0, 10000),
        ]);

        var job = NewJob(parallelism: 1);
        var lateReadings = new OutputTag<(string Sensor, long Reading)>("late-readings");
        var windowed = job.FromKafka(input, Serdes.String, watermarks: WatermarkStrategy<string?>.ForMonotonousTimestamps())
            .Map(Parse)
            .KeyBy(r => r.Sensor)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(1)))
            .AllowedLateness(TimeSpan.FromSeconds(2))
            .SideOutputLateData(lateReadings)
            .Reduce((a, b) => (a.Sensor, a.Reading + b.Reading), (sensor, window, sum) => $"{sensor}@{window.Start}:{sum.Reading}");
        windowed.ToKafka(sums, Serdes.String!);
        windowed.GetSideOutput(lateReadings).Map(r => $"{r.Sensor},{r.Reading}").ToKafka(late, Serdes.String!);
        await using var running = new RunningJob(job);
        var sumRecords = await _kafka.ReadAsync(sums, 1, 4, running.Run);
        var lateRecords = await _kafka.ReadAsync(late, 1, 1, running.Run);
        await running.StopAsync();

        Assert.Equal(["a@0:3", "a@0:13", "f@1000:0", "f@4000:0"], sumRecords.Select(r => r.Message.Value));
        Assert.All(sumRecords, r => Assert.EndsWith("999", r.Message.Timestamp.UnixTimestampMs.ToString()));
        var lateRecord = Assert.Single(lateRecords);
        Assert.Equal("a,100", lateRecord.Message.Value);
        Assert.Equal(300, lateRecord.Message.Timestamp.UnixTimestampMs);
        Assert.Equal(4, _kafka.ReadAll(sums, 1).Count);
        Assert.Single(_kafka.ReadAll(late, 1));
    }

    [Fact]
    public async Task sliding_windows_count_a_record_in_every_window_covering_it_and_session_windows_merge_records_within_the_gap()
    {
        string input = Kafka.NewTopic("readings");
        string slidingSums = Kafka.NewTopic("sliding-sums"), slidingCounts = Kafka.NewTopic("sliding-counts");
        string sessionSums = Kafka.NewTopic("session-sums"), sessionCounts = Kafka.NewTopic("session-counts");
        await CreateTopicsAsync(1, input, slidingSums, slidingCounts, sessionSums, sessionCounts);
        // Out of order within the 3 s bound (no timestamp 0: the producer would stamp the current time). Sessions with a
        // 1 s gap: a's first three records make [1,1500) and [3000,4000); a@1400 stretches the first to [1,2400);
        // a@2200 bridges the two into [1,4000). b has two sessions.
        await _kafka.ProduceAsync(input,
        [
            new Input(null, "a,1", 0, 1), new Input(null, "a,2", 0, 500), new Input(null, "a,4", 0, 3000), new Input(null, "a,8", 0, 1400),
            new Input(null, "b,1", 0, 100), new Input(null, "a,32", 0, 2200), new Input(null, "b,2", 0, 5000), new Input(null, "f,0", 0, 20000),
        ]);

        var job = NewJob(parallelism: 2);
        var keyed = job.FromKafka(input, Serdes.String, watermarks: WatermarkStrategy<string?>.ForBoundedOutOfOrderness(TimeSpan.FromSeconds(3)))
            .Map(Parse)
            .Filter(r => r.Sensor != "f") // f only moves event time on
            .KeyBy(r => r.Sensor);
        var sliding = keyed.Window(SlidingEventTimeWindows.Of(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)));
        sliding.Reduce((a, b) => (a.Sensor, a.Reading + b.Reading), (sensor, window, sum) => $"{sensor}@{window.Start}:{sum.Reading}")
            .ToKafka(slidingSums, Serdes.String!);
        sliding.Aggregate(() => 0, (count, _) => count + 1, (sensor, window, count) => $"{sensor}@{window.Start}:{count}")
            .ToKafka(slidingCounts, Serdes.String!);
        var sessions = keyed.Window(EventTimeSessionWindows.WithGap(TimeSpan.FromSeconds(1)));
        sessions.Reduce((a, b) => (a.Sensor, a.Reading + b.Reading), (sensor, window, sum) => $"{sensor}@{window.Start}-{window.End}:{sum.Reading}")
            .ToKafka(sessionSums, Serdes.String!);
        sessions.Aggregate(() => 0, (count, _) => count + 1, (x, y) => x + y, (sensor, window, count) => $"{sensor}@{window.Start}-{window.End}:{count}")
            .ToKafka(sessionCounts, Serdes.String!);
        await using var running = new RunningJob(job);
        var slidingSumRecords = await _kafka.ReadAsync(slidingSums, 1, 9, running.Run);
        var slidingCountRecords = await _kafka.ReadAsync(slidingCounts, 1, 9, running.Run);
        var sessionSumRecords = await _kafka.ReadAsync(sessionSums, 1, 3, running.Run);
        var sessionCountRecords = await _kafka.ReadAsync(sessionCounts, 1, 3, running.Run);
        await running.StopAsync();

        Assert.Equal(["a@-1000:3", "a@0:11", "a@1000:40", "a@2000:36", "a@3000:4", "b@-1000:1", "b@0:1", "b@4000:2", "b@5000:2"],
            slidingSumRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["a@-1000:2", "a@0:3", "a@1000:2", "a@2000:2", "a@3000:1", "b@-1000:1", "b@0:1", "b@4000:1", "b@5000:1"],
            slidingCountRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["a@1-4000:47", "b@100-1100:1", "b@5000-6000:2"], sessionSumRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["a@1-4000:5", "b@100-1100:1", "b@5000-6000:1"], sessionCountRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        // A session's result carries its last timestamp.
        Assert.Equal([1099L, 3999, 5999], sessionSumRecords.Select(r => r.Message.Timestamp.UnixTimestampMs).Order());
        Assert.Equal(3, _kafka.ReadAll(sessionSums, 1).Count);
    }

    /// <summary>On disk, the windows' state and their event-time timers are in RocksDB (not on the heap), and come back from the checkpoint.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task a_session_restored_from_a_checkpoint_merges_the_records_of_the_next_run_into_the_same_window(bool stateOnDisk)
    {
        string input = Kafka.NewTopic("readings"), sums = Kafka.NewTopic("session-sums");
        await CreateTopicsAsync(1, input, sums);
        StreamJob Job()
        {
            var job = NewJob(parallelism: 2, checkpointDirectory: Path.Combine(_directory, "checkpoints"), stateOnDisk);
            job.FromKafka(input, Serdes.String, watermarks: WatermarkStrategy<string?>.ForMonotonousTimestamps())
                .Map(Parse)
                .KeyBy(r => r.Sensor)
                .Window(EventTimeSessionWindows.WithGap(TimeSpan.FromSeconds(1)))
                .Reduce((a, b) => (a.Sensor, a.Reading + b.Reading), (sensor, window, sum) => $"{sensor}@{window.Start}-{window.End}:{sum.Reading}")
                .ToKafka(sums, Serdes.String!);
            return job;
        }

        // The first run sees a's session [1,1500) open, checkpoints it, and stops (a stop fires no window).
        await _kafka.ProduceAsync(input, [new Input(null, "a,1", 0, 1), new Input(null, "a,2", 0, 500)]);
        await using (var first = new RunningJob(Job()))
        {
            var deadline = DateTime.UtcNow + Kafka.Timeout;
            while (CheckpointProgress.Records(Path.Combine(_directory, "checkpoints")) != 2)
            {
                if (first.Run.IsCompleted) await first.Run;
                Assert.True(DateTime.UtcNow < deadline, "no checkpoint covered the first two records");
                await Task.Delay(50);
            }
        }
        Assert.Empty(_kafka.ReadAll(sums, 1));

        // The second run restores it: a@1000 extends the same session, f@5000 closes it.
        await _kafka.ProduceAsync(input, [new Input(null, "a,4", 0, 1000), new Input(null, "f,0", 0, 5000)]);
        await using var second = new RunningJob(Job());
        var records = await _kafka.ReadAsync(sums, 1, 1, second.Run);
        await second.StopAsync();

        Assert.Equal("a@1-2000:7", Assert.Single(records).Message.Value);
        Assert.Single(_kafka.ReadAll(sums, 1));
    }

    [Fact]
    public async Task the_user_sessions_example_writes_each_closed_session_of_a_user_as_json()
    {
        string input = Kafka.NewTopic("actions"), output = Kafka.NewTopic("sessions");
        await CreateTopicsAsync(2, input, output);
        // Gap 5 s, 5 s out of order allowed: event time reaches 14999 (partition 0's 20000 - 5001), which closes alice's
        // first session [1000, 8000) and bob's [2000, 7000), not alice's second nor carol's.
        await _kafka.ProduceAsync(input,
        [
            new Input("alice", "login", 0, 1000), new Input("bob", "login", 1, 2000), new Input("alice", "click", 0, 3000),
            new Input("alice", "login", 0, 20000), new Input("carol", "login", 1, 30000),
        ]);

        var job = NewJob(parallelism: 2);
        UserSessionsJob.Define(job, input, output, TimeSpan.FromSeconds(5));
        await using var running = new RunningJob(job);
        var records = await _kafka.ReadAsync(output, 1, 2, running.Run);
        await running.StopAsync();

        var sessions = records.Select(r => System.Text.Json.JsonSerializer.Deserialize<UserSession>(r.Message.Value!)!).OrderBy(s => s.User);
        Assert.Equal([new UserSession("alice", 1000, 8000, 2), new UserSession("bob", 2000, 7000, 1)], sessions);
        Assert.Equal(["alice", "bob"], records.Select(r => r.Message.Key).Order());
        Assert.Equal(2, _kafka.ReadAll(output, 1).Count);
    }
}
