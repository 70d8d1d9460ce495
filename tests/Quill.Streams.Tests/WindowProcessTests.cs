using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Serialization;
using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Tests;

/// <summary>Whole-window functions (<see cref="WindowedStream{TKey,T}.Process{TOut}(Func{ProcessWindowFunction{TKey,T,TOut}})"/>) over a real broker.</summary>
[Collection(BrokerCollection.Name)]
public sealed class WindowProcessTests(BrokerFixture fixture) : IDisposable
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
        JobName = Kafka.NewTopic("window-process"),
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

    /// <summary>"key@start-end:r1 r2 ...", the readings in the order the function got them.</summary>
    private static string Listed(IReadOnlyList<(string Sensor, long Reading)> records, WindowContext<string, string> context) =>
        $"{context.Key}@{context.Window.Start}-{context.Window.End}:{string.Join(' ', records.Select(r => r.Reading))}";

    /// <summary>Keyed by sensor, "f" records left out (they only move event time on).</summary>
    private static KeyedStream<string, (string Sensor, long Reading)> Readings(StreamJob job, string input, WatermarkStrategy<string?> watermarks) =>
        job.FromKafka(input, Serdes.String, watermarks: watermarks).Map(Parse).Filter(r => r.Sensor != "f").KeyBy(r => r.Sensor);

    /// <summary>A function as a class: two outputs per window, and a side output for windows of more than one record.</summary>
    private sealed class CountAndMax(OutputTag<string> sorted) : ProcessWindowFunction<string, (string Sensor, long Reading), string>
    {
        public override void Process(IReadOnlyList<(string Sensor, long Reading)> elements, WindowContext<string, string> context)
        {
            context.Emit(Listed(elements, context));
            context.Emit($"{context.Key}@{context.Window.Start}:count={elements.Count},max={elements.Max(r => r.Reading)}");
            if (elements.Count > 1)
                context.Output(sorted, $"{context.Key}@{context.Window.Start}:{string.Join(' ', elements.Select(r => r.Reading).Order())}");
        }
    }

    [Fact]
    public async Task a_tumbling_window_function_gets_every_record_of_its_key_and_window_in_order_and_emits_several_outputs_and_side_outputs()
    {
        string input = Kafka.NewTopic("readings"), output = Kafka.NewTopic("windows"), side = Kafka.NewTopic("sorted");
        await CreateTopicsAsync(1, input, output, side);
        // f@5000 moves the watermark to 4999: every window up to 4999 fires, each once.
        await _kafka.ProduceAsync(input,
        [
            new Input(null, "a,3", 0, 100), new Input(null, "b,10", 0, 200), new Input(null, "a,1", 0, 300), new Input(null, "a,2", 0, 900),
            new Input(null, "a,7", 0, 1000), new Input(null, "b,5", 0, 1500), new Input(null, "b,4", 0, 1999), new Input(null, "f,0", 0, 5000),
        ]);

        var job = NewJob(parallelism: 2);
        var sorted = new OutputTag<string>("sorted");
        var windows = Readings(job, input, WatermarkStrategy<string?>.ForMonotonousTimestamps())
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(1)))
            .Process(() => new CountAndMax(sorted));
        windows.ToKafka(output, Serdes.String!);
        windows.GetSideOutput(sorted).ToKafka(side, Serdes.String!);
        await using var running = new RunningJob(job);
        var records = await _kafka.ReadAsync(output, 1, 8, running.Run);
        var sideRecords = await _kafka.ReadAsync(side, 1, 2, running.Run);
        await running.StopAsync();

        // Per key in the order of its windows, each window's two outputs in the order emitted.
        Assert.Equal(["a@0-1000:3 1 2", "a@0:count=3,max=3", "a@1000-2000:7", "a@1000:count=1,max=7"],
            records.Select(r => r.Message.Value!).Where(v => v.StartsWith('a')));
        Assert.Equal(["b@0-1000:10", "b@0:count=1,max=10", "b@1000-2000:5 4", "b@1000:count=2,max=5"],
            records.Select(r => r.Message.Value!).Where(v => v.StartsWith('b')));
        Assert.Equal(["a@0:1 2 3", "b@1000:4 5"], sideRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.All(records.Concat(sideRecords), r => Assert.EndsWith("999", r.Message.Timestamp.UnixTimestampMs.ToString()));
        Assert.Equal(8, _kafka.ReadAll(output, 1).Count);
        Assert.Equal(2, _kafka.ReadAll(side, 1).Count);
    }

    /// <summary>On disk a merge moves the later parts' records after the earliest part's, entry by entry, as on the heap.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task sliding_windows_give_each_window_its_own_records_and_merged_sessions_concatenate_their_records(bool stateOnDisk)
    {
        string input = Kafka.NewTopic("readings"), sliding = Kafka.NewTopic("sliding"), sessions = Kafka.NewTopic("sessions");
        await CreateTopicsAsync(1, input, sliding, sessions);
        // Out of order within the 3 s bound. Sessions with a 1 s gap: a@1 and a@500 make [1,1500) (1 2), a@3000 makes
        // [3000,4000) (4); a@1400 stretches the first to [1,2400) (1 2 8); a@2200 bridges both into [1,4000): the
        // first's records, then the second's, then its own.
        await _kafka.ProduceAsync(input,
        [
            new Input(null, "a,1", 0, 1), new Input(null, "a,2", 0, 500), new Input(null, "a,4", 0, 3000), new Input(null, "a,8", 0, 1400),
            new Input(null, "b,1", 0, 100), new Input(null, "a,32", 0, 2200), new Input(null, "b,2", 0, 5000), new Input(null, "f,0", 0, 20000),
        ]);

        var job = NewJob(parallelism: 2, stateOnDisk: stateOnDisk);
        var keyed = Readings(job, input, WatermarkStrategy<string?>.ForBoundedOutOfOrderness(TimeSpan.FromSeconds(3)));
        keyed.Window(SlidingEventTimeWindows.Of(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)))
            .Process<string>((records, context) => context.Emit(Listed(records, context)))
            .ToKafka(sliding, Serdes.String!);
        keyed.Window(EventTimeSessionWindows.WithGap(TimeSpan.FromSeconds(1)))
            .Process<string>((records, context) => context.Emit(Listed(records, context)))
            .ToKafka(sessions, Serdes.String!);
        await using var running = new RunningJob(job);
        var slidingRecords = await _kafka.ReadAsync(sliding, 1, 9, running.Run);
        var sessionRecords = await _kafka.ReadAsync(sessions, 1, 3, running.Run);
        await running.StopAsync();

        Assert.Equal(["a@-1000-1000:1 2", "a@0-2000:1 2 8", "a@1000-3000:8 32", "a@2000-4000:4 32", "a@3000-5000:4",
                "b@-1000-1000:1", "b@0-2000:1", "b@4000-6000:2", "b@5000-7000:2"],
            slidingRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["a@1-4000:1 2 8 4 32", "b@100-1100:1", "b@5000-6000:2"], sessionRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal([1099L, 3999, 5999], sessionRecords.Select(r => r.Message.Timestamp.UnixTimestampMs).Order());
        Assert.Equal(9, _kafka.ReadAll(sliding, 1).Count);
        Assert.Equal(3, _kafka.ReadAll(sessions, 1).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task a_late_record_within_the_allowed_lateness_fires_the_window_again_with_all_its_records(bool stateOnDisk)
    {
        string input = Kafka.NewTopic("readings"), output = Kafka.NewTopic("windows"), late = Kafka.NewTopic("late");
        await CreateTopicsAsync(1, input, output, late);
        // Windows of 1 s, lateness 2 s. f@1500 fires a@0 (1 2); a@200 is late but within the lateness: a@0 fires again
        // with all three. f@4000 passes 999 + 2000, so a@0 is gone and a@300 goes to the late side output.
        await _kafka.ProduceAsync(input,
        [
            new Input(null, "a,1", 0, 100), new Input(null, "a,2", 0, 500), new Input(null, "f,0", 0, 1500), new Input(null, "a,10", 0, 200),
            new Input(null, "f,0", 0, 4000), new Input(null, "a,100", 0, 300), new Input(null, "f,0", 0, 10000),
        ]);

        var job = NewJob(parallelism: 1, stateOnDisk: stateOnDisk);
        var lateReadings = new OutputTag<(string Sensor, long Reading)>("late-readings");
        var windows = Readings(job, input, WatermarkStrategy<string?>.ForMonotonousTimestamps())
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(1)))
            .AllowedLateness(TimeSpan.FromSeconds(2))
            .SideOutputLateData(lateReadings)
            .Process<string>((records, context) => context.Emit($"{Listed(records, context)} (watermark past the end: {context.CurrentWatermark >= context.Window.MaxTimestamp})"));
        windows.ToKafka(output, Serdes.String!);
        windows.GetSideOutput(lateReadings).Map(r => $"{r.Sensor},{r.Reading}").ToKafka(late, Serdes.String!);
        await using var running = new RunningJob(job);
        var records = await _kafka.ReadAsync(output, 1, 2, running.Run);
        var lateRecords = await _kafka.ReadAsync(late, 1, 1, running.Run);
        await running.StopAsync();

        Assert.Equal(["a@0-1000:1 2 (watermark past the end: True)", "a@0-1000:1 2 10 (watermark past the end: True)"], records.Select(r => r.Message.Value));
        Assert.All(records, r => Assert.Equal(999, r.Message.Timestamp.UnixTimestampMs));
        var lateRecord = Assert.Single(lateRecords);
        Assert.Equal("a,100", lateRecord.Message.Value);
        Assert.Equal(300, lateRecord.Message.Timestamp.UnixTimestampMs);
        Assert.Equal(2, _kafka.ReadAll(output, 1).Count);
    }

    /// <summary>The windows' records are keyed state: in the checkpoint, on the heap or in RocksDB, and back at the restart.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task records_of_open_windows_restored_from_a_checkpoint_are_given_to_the_function_with_the_next_runs_records(bool stateOnDisk)
    {
        string input = Kafka.NewTopic("readings"), sessions = Kafka.NewTopic("sessions"), tumbling = Kafka.NewTopic("tumbling");
        await CreateTopicsAsync(1, input, sessions, tumbling);
        StreamJob Job()
        {
            var job = NewJob(parallelism: 2, checkpointDirectory: Path.Combine(_directory, "checkpoints"), stateOnDisk);
            var keyed = Readings(job, input, WatermarkStrategy<string?>.ForMonotonousTimestamps());
            keyed.Window(EventTimeSessionWindows.WithGap(TimeSpan.FromSeconds(1)))
                .Process<string>((records, context) => context.Emit(Listed(records, context)))
                .ToKafka(sessions, Serdes.String!);
            keyed.Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(10)))
                .Process<string>((records, context) => context.Emit(Listed(records, context)))
                .ToKafka(tumbling, Serdes.String!);
            return job;
        }

        // The first run sees a's session [1,1500) and b's [700,1700) open, checkpoints them, and stops (a stop fires no window).
        await _kafka.ProduceAsync(input, [new Input(null, "a,1", 0, 1), new Input(null, "a,2", 0, 500), new Input(null, "b,5", 0, 700)]);
        await using (var first = new RunningJob(Job()))
        {
            var deadline = DateTime.UtcNow + Kafka.Timeout;
            while (CheckpointProgress.Records(Path.Combine(_directory, "checkpoints")) != 3)
            {
                if (first.Run.IsCompleted) await first.Run;
                Assert.True(DateTime.UtcNow < deadline, "no checkpoint covered the first three records");
                await Task.Delay(50);
            }
        }
        Assert.Empty(_kafka.ReadAll(sessions, 1));
        Assert.Empty(_kafka.ReadAll(tumbling, 1));

        // The second run restores them: a@1000 and b@1200 extend the same sessions, f@20000 closes every window.
        await _kafka.ProduceAsync(input, [new Input(null, "a,4", 0, 1000), new Input(null, "b,6", 0, 1200), new Input(null, "f,0", 0, 20000)]);
        await using var second = new RunningJob(Job());
        var sessionRecords = await _kafka.ReadAsync(sessions, 1, 2, second.Run);
        var tumblingRecords = await _kafka.ReadAsync(tumbling, 1, 2, second.Run);
        await second.StopAsync();

        Assert.Equal(["a@1-2000:1 2 4", "b@700-2200:5 6"], sessionRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["a@0-10000:1 2 4", "b@0-10000:5 6"], tumblingRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(2, _kafka.ReadAll(sessions, 1).Count);
        Assert.Equal(2, _kafka.ReadAll(tumbling, 1).Count);
    }
    /// <summary>
    /// Processing-time windows on the job's (fake) clock, no watermarks: a record is in the windows holding the clock when
    /// the window operator takes it, and a window fires when the clock passes its end. Every window operator takes a
    /// record before the echo does (one keyed stream feeds them in order), so its echo in the output means the windows have it.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task processing_time_windows_take_records_by_the_tasks_clock_and_fire_when_it_passes_their_end(bool stateOnDisk)
    {
        string input = Kafka.NewTopic("readings"), echo = Kafka.NewTopic("echo");
        string tumbling = Kafka.NewTopic("tumbling"), sliding = Kafka.NewTopic("sliding"), sessions = Kafka.NewTopic("sessions");
        await CreateTopicsAsync(2, input, echo, tumbling, sliding, sessions);
        const long T = 1_700_000_000_000; // a multiple of 10 s
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T + 1000));
        var job = StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = Kafka.NewTopic("window-process"),
            Parallelism = 2,
            TimeProvider = clock,
            StateBackend = stateOnDisk ? StateBackend.OnDisk(Path.Combine(_directory, "state"), 1 << 20) : StateBackend.InMemory,
        });
        var keyed = job.FromKafka(input, Serdes.String).Map(Parse).KeyBy(r => r.Sensor);
        string Relative(TimeWindow window) => $"{window.Start - T}-{window.End - T}";
        keyed.Window(TumblingProcessingTimeWindows.Of(TimeSpan.FromSeconds(10)))
            .Process<string>((records, context) => context.Emit($"{context.Key}@{Relative(context.Window)}:{string.Join(' ', records.Select(r => r.Reading))}"))
            .ToKafka(tumbling, Serdes.String!);
        keyed.Window(SlidingProcessingTimeWindows.Of(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5)))
            .Reduce((a, b) => (a.Sensor, a.Reading + b.Reading), (sensor, window, sum) => $"{sensor}@{Relative(window)}:{sum.Reading}")
            .ToKafka(sliding, Serdes.String!);
        keyed.Window(ProcessingTimeSessionWindows.WithGap(TimeSpan.FromSeconds(3)))
            .Process<string>((records, context) => context.Emit($"{context.Key}@{Relative(context.Window)}:{string.Join(' ', records.Select(r => r.Reading))}"))
            .ToKafka(sessions, Serdes.String!);
        keyed.Process<string>((record, context) => context.Emit($"{record.Sensor},{record.Reading}")).ToKafka(echo, Serdes.String!);
        await using var running = new RunningJob(job);

        // At T+1 s: a 1 s session each for a and b, the sliding windows from T-5 s and T, the tumbling one from T.
        await _kafka.ProduceAsync(input, [new Input("a", "a,1", 0, null), new Input("b", "b,10", 1, null), new Input("a", "a,2", 0, null)]);
        await _kafka.ReadAsync(echo, 1, 3, running.Run);
        // At T+5 s the sessions [T+1 s, T+4 s) and the sliding windows [T-5 s, T+5 s) have fired; a's next record is
        // in the windows from T and T+5 s and in a new session.
        clock.Advance(TimeSpan.FromSeconds(4));
        var firstSessions = await _kafka.ReadAsync(sessions, 1, 2, running.Run);
        var firstSliding = await _kafka.ReadAsync(sliding, 1, 2, running.Run);
        await _kafka.ProduceAsync(input, [new Input("a", "a,4", 0, null)]);
        await _kafka.ReadAsync(echo, 1, 4, running.Run);
        clock.Advance(TimeSpan.FromSeconds(5));
        var tumblingRecords = await _kafka.ReadAsync(tumbling, 1, 2, running.Run);
        var slidingRecords = await _kafka.ReadAsync(sliding, 1, 4, running.Run);
        var sessionRecords = await _kafka.ReadAsync(sessions, 1, 3, running.Run);
        await running.StopAsync();

        Assert.Equal(["a@1000-4000:1 2", "b@1000-4000:10"], firstSessions.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["a@-5000-5000:3", "b@-5000-5000:10"], firstSliding.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["a@0-10000:1 2 4", "b@0-10000:10"], tumblingRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["a@-5000-5000:3", "a@0-10000:7", "b@-5000-5000:10", "b@0-10000:10"], slidingRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["a@1000-4000:1 2", "a@5000-8000:4", "b@1000-4000:10"], sessionRecords.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        // Results carry their window's last millisecond.
        Assert.Equal([T + 9999, T + 9999], tumblingRecords.Select(r => r.Message.Timestamp.UnixTimestampMs));
        Assert.Equal([T + 3999, T + 3999, T + 7999], sessionRecords.Select(r => r.Message.Timestamp.UnixTimestampMs).Order());
        Assert.Equal(2, _kafka.ReadAll(tumbling, 1).Count);
        Assert.Equal(4, _kafka.ReadAll(sliding, 1).Count);
    }
    /// <summary>
    /// A processing-time window's records and timer are in the checkpoint; restored after its end has passed on the
    /// clock, the window fires at once with the first run's records, and the second run's records make a new window.
    /// </summary>
    [Fact]
    public async Task a_processing_time_window_restored_after_its_end_fires_at_once_with_the_records_of_the_first_run()
    {
        string input = Kafka.NewTopic("readings"), echo = Kafka.NewTopic("echo"), output = Kafka.NewTopic("windows");
        await CreateTopicsAsync(1, input, echo, output);
        const long T = 1_700_000_040_000; // a multiple of 60 s
        string checkpoints = Path.Combine(_directory, "checkpoints");
        StreamJob Job(FakeTimeProvider clock)
        {
            var job = StreamJob.Create(new StreamJobOptions
            {
                BootstrapServers = fixture.Broker.BootstrapServers,
                JobName = Kafka.NewTopic("window-process"),
                Parallelism = 2,
                TimeProvider = clock,
                CheckpointDirectory = checkpoints,
                CheckpointInterval = TimeSpan.FromSeconds(10),
            });
            var keyed = job.FromKafka(input, Serdes.String).Map(Parse).KeyBy(r => r.Sensor);
            keyed.Window(TumblingProcessingTimeWindows.Of(TimeSpan.FromMinutes(1)))
                .Process<string>((records, context) =>
                    context.Emit($"{context.Key}@{context.Window.Start - T}:{string.Join(' ', records.Select(r => r.Reading))}"))
                .ToKafka(output, Serdes.String!);
            keyed.Process<string>((record, context) => context.Emit($"{record.Sensor},{record.Reading}")).ToKafka(echo, Serdes.String!);
            return job;
        }

        // First run, at T+1 s: a's and b's records go into [T, T+60 s); at T+11 s a checkpoint has them; the stop fires nothing.
        await _kafka.ProduceAsync(input, [new Input(null, "a,1", 0, null), new Input(null, "b,10", 0, null), new Input(null, "a,2", 0, null)]);
        var firstClock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T + 1000));
        await using (var first = new RunningJob(Job(firstClock)))
        {
            await _kafka.ReadAsync(echo, 1, 3, first.Run);
            firstClock.Advance(TimeSpan.FromSeconds(10));
            var deadline = DateTime.UtcNow + Kafka.Timeout;
            while (CheckpointProgress.Records(checkpoints) != 3)
            {
                if (first.Run.IsCompleted) await first.Run;
                Assert.True(DateTime.UtcNow < deadline, "no checkpoint covered the first three records");
                await Task.Delay(50);
            }
        }
        Assert.Empty(_kafka.ReadAll(output, 1));

        // Second run, at T+70 s: [T, T+60 s) fires at once; a@T+70 s is in [T+60 s, T+120 s), which fires at T+120 s.
        var secondClock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(T + 70_000));
        await using var second = new RunningJob(Job(secondClock));
        var restored = await _kafka.ReadAsync(output, 1, 2, second.Run);
        await _kafka.ProduceAsync(input, [new Input(null, "a,4", 0, null)]);
        await _kafka.ReadAsync(echo, 1, 4, second.Run);
        secondClock.Advance(TimeSpan.FromSeconds(50));
        var records = await _kafka.ReadAsync(output, 1, 3, second.Run);
        await second.StopAsync();

        Assert.Equal(["a@0:1 2", "b@0:10"], restored.Select(r => r.Message.Value).Order(StringComparer.Ordinal));
        Assert.Equal("a@60000:4", records[2].Message.Value);
        Assert.Equal(T + 119_999, records[2].Message.Timestamp.UnixTimestampMs);
        Assert.Equal(3, _kafka.ReadAll(output, 1).Count);
    }
}
