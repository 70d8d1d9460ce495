using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Quill.Streams.Api;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Perf.Streams;

/// <summary>One system under test, running one topology from an input topic to an output topic until stopped.</summary>
public interface IStreamsPerfProcessor : IAsyncDisposable
{
    /// <summary>Fails (faulted) if the processor stops by itself.</summary>
    Task Running { get; }

    /// <summary>Processor time used so far by a process of the processor's own (zero when it runs in this process).</summary>
    TimeSpan OwnProcessorTime => TimeSpan.Zero;
}

/// <summary>The topologies: the stateless map, the word count and the windowed word count.</summary>
public enum StreamsPerfTopology { Map, Count, Window }

public sealed record ValueLength(string Value, int Length);

/// <summary>
/// The ceiling: one Confluent.Kafka consumer and one producer in a loop, the map's transform in between, the producer
/// settings of a Quill.Streams sink (idempotent, acks=all, linger.ms=5). Map only. <c>tuned</c> also takes the client
/// settings a Quill.Streams job sets for itself (no headers copied per consumed record, no fields in delivery reports),
/// so that the job is compared with a loop that pays the same client costs.
/// </summary>
public sealed class RawLoopProcessor : IStreamsPerfProcessor
{
    private readonly CancellationTokenSource _stop = new();

    public RawLoopProcessor(string bootstrap, string input, int partitions, string output, string group, bool tuned = false)
    {
        Running = Task.Factory.StartNew(() => Loop(bootstrap, input, partitions, output, group, tuned), TaskCreationOptions.LongRunning);
    }

    public Task Running { get; }

    private void Loop(string bootstrap, string input, int partitions, string output, string group, bool tuned)
    {
        var consumerConfig = new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = group, EnableAutoCommit = false, EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        var producerConfig = new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 5 };
        if (tuned)
        {
            consumerConfig.ConsumeResultFields = "topic,timestamp";
            producerConfig.DeliveryReportFields = "none";
        }
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(consumerConfig).Build();
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(producerConfig).Build();
        Exception? failure = null;
        Action<DeliveryReport<byte[]?, byte[]?>> onDelivery = r => { if (r.Error.IsError) failure ??= new KafkaException(r.Error); };
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(input, p, Offset.Beginning)));
        while (!_stop.IsCancellationRequested)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is null || result.IsPartitionEOF) continue;
            if (failure is not null) throw failure;
            string value = result.Message.Value is null ? "" : Encoding.UTF8.GetString(result.Message.Value);
            var message = new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes(value),
                Value = JsonSerializer.SerializeToUtf8Bytes(new ValueLength(value, value.Length)),
                Timestamp = result.Message.Timestamp,
            };
            while (true)
            {
                try
                {
                    producer.Produce(output, message, onDelivery);
                    break;
                }
                catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(100));
                }
            }
        }
        producer.Flush(TimeSpan.FromSeconds(10));
        consumer.Close();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await Running; } catch { /* its failure was reported by the run */ }
        _stop.Dispose();
    }
}

/// <summary>A Quill.Streams job in this process: the seed job (map), a word count or a windowed word count.</summary>
public sealed class QuillStreamsProcessor : IStreamsPerfProcessor
{
    private readonly CancellationTokenSource _stop = new();

    public QuillStreamsProcessor(StreamsPerfTopology topology, string bootstrap, string input, string output, string jobName, int parallelism)
    {
        var job = StreamJob.Create(new StreamJobOptions { BootstrapServers = bootstrap, JobName = jobName, Parallelism = parallelism });
        if (topology == StreamsPerfTopology.Map) DefineMap(job, input, output);
        else if (topology == StreamsPerfTopology.Window)
            DefineWindowedWordCount(job, input, output, TimeSpan.FromMilliseconds(StreamsPerf.WindowMs), TimeSpan.FromMilliseconds(StreamsPerf.OutOfOrdernessMs));
        else DefineWordCount(job, input, output);
        Running = Task.Run(() => job.RunAsync(_stop.Token));
    }

    public Task Running { get; }

    public static void DefineMap(StreamJob job, string input, string output) =>
        job.FromKafka(input, Serdes.String)
            .Map(value => new ValueLength(value ?? "", (value ?? "").Length))
            .ToKafka(output, v => v.Value, Serdes.String, Serdes.Json<ValueLength>());

    public static void DefineWordCount(StreamJob job, string input, string output) =>
        job.FromKafka(input, Serdes.String)
            .FlatMap(line => (line ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Map(word => new WordCount(word, 1))
            .KeyBy(c => c.Word)
            .Reduce((a, b) => new WordCount(a.Word, a.Count + b.Count))
            .ToKafka(output, c => c.Word, Serdes.String, c => c.Count.ToString(CultureInfo.InvariantCulture), Serdes.String);

    /// <summary>
    /// Counts per word in tumbling event-time windows (the records' Kafka timestamps, watermarks with a bounded
    /// out-of-orderness): one result per word and window when the watermark passes the window's end, keyed by the word,
    /// "COUNT WINDOW_END_MS" as its value.
    /// </summary>
    public static void DefineWindowedWordCount(StreamJob job, string input, string output, TimeSpan window, TimeSpan outOfOrderness) =>
        job.FromKafka(input, Serdes.String, watermarks: WatermarkStrategy<string?>.ForBoundedOutOfOrderness(outOfOrderness))
            .FlatMap(line => (line ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .KeyBy(word => word)
            .Window(TumblingEventTimeWindows.Of(window))
            .Aggregate(() => 0L, (count, _) => count + 1, (word, w, count) => new WindowCount(word, w.End, count))
            .ToKafka(output, c => c.Word, Serdes.String, c => string.Create(CultureInfo.InvariantCulture, $"{c.Count} {c.EndMs}"), Serdes.String);

    private sealed record WordCount(string Word, long Count);

    private sealed record WindowCount(string Word, long EndMs, long Count);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try { await Running; } catch { /* its failure was reported by the run */ }
        _stop.Dispose();
    }
}

/// <summary>
/// The Streamiz.Kafka.Net topologies (tools/Quill.Streams.Streamiz.Bench) in a child process: `dotnet BENCH.dll ...`;
/// closing its standard input stops it.
/// </summary>
public sealed class StreamizProcessor : IStreamsPerfProcessor
{
    private readonly Process _process;

    public StreamizProcessor(string benchDll, StreamsPerfTopology topology, string bootstrap, string input, string output,
        string applicationId, int threads)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     benchDll, "--topology", topology.ToString().ToLowerInvariant(), "--bootstrap-server", bootstrap,
                     "--input", input, "--output", output, "--application-id", applicationId, "--threads", threads.ToString(CultureInfo.InvariantCulture),
                     "--window-ms", StreamsPerf.WindowMs.ToString(CultureInfo.InvariantCulture),
                     "--grace-ms", StreamsPerf.OutOfOrdernessMs.ToString(CultureInfo.InvariantCulture),
                 })
            start.ArgumentList.Add(arg);
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet " + benchDll);
        // Its log is not needed; drain it so that it never blocks on a full pipe.
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) LastError = e.Data; };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Running = WatchAsync();
    }

    public string? LastError { get; private set; }

    public TimeSpan OwnProcessorTime
    {
        get
        {
            try
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                return TimeSpan.Zero; // it exited: the case fails anyway
            }
        }
    }

    public Task Running { get; }

    private async Task WatchAsync()
    {
        await _process.WaitForExitAsync();
        throw new InvalidOperationException($"the Streamiz process exited ({_process.ExitCode}): {LastError}");
    }

    public async ValueTask DisposeAsync()
    {
        try { _process.StandardInput.Close(); } catch (IOException) { }
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
