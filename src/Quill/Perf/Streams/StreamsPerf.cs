using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using HdrHistogram;

namespace Quill.Perf.Streams;

/// <summary>Settings of `quill perf streams`.</summary>
public sealed record StreamsPerfOptions(
    string BootstrapServers,
    long Lines,
    int Rounds,
    int Partitions,
    int Parallelism,
    IReadOnlyList<string> Cases,
    string? StreamizBench,
    int LatencyRate,
    int LatencySeconds,
    TimeSpan StallTimeout);

/// <summary>
/// One case of one round. <paramref name="CpuMicrosPerLine"/>: processor time per input line from the processor's start
/// to its last output, of this process (the processor when it runs here, and the output reader) plus the processor's own
/// process (Streamiz): on a busy machine a steadier figure than lines/s, which counts the time the job waited for a core.
/// </summary>
public sealed record StreamsPerfResult(string Case, int Round, long Lines, double LinesPerSecond, LongHistogram Latency,
    double CpuMicrosPerLine = double.NaN)
{
    public double Percentile(double p) => Latency.TotalCount == 0 ? double.NaN : Latency.GetValueAtPercentile(p) / 1000.0;
}

/// <summary>
/// `quill perf streams`: the same input through each system under test, in the same run, rounds interleaved.
/// For each case: fresh input and output topics; the input is loaded first (lines of five words out of 1000);
/// then the processor starts and an independent consumer reads the output. Throughput: input lines per second between
/// the first and the last output record (so start-up and group joins are not counted). Then latency: probe lines at a
/// fixed rate, each carrying the wall-clock time it was produced in its first word; the reader takes the time it reads
/// the probe's output (the map's output is keyed by the line, the word count's by the word) minus that.
/// <para>
/// The windowed count (<see cref="StreamsPerfTopology.Window"/>) needs event time. Its input lines carry timestamps that
/// advance 1 ms every <see cref="LinesPerEventMs"/> lines (10,000 lines per second of event time, about the pace these
/// jobs process at here: a 1 s window holds 10,000 lines, each word of the vocabulary about 50 times), starting minutes
/// in the past. Before them a warm-up line in a window that closes as soon as the first real line is processed: its
/// result marks the start, as the first output record does for the other topologies. After them a closing line that
/// closes every real window. Throughput: the input lines per second between the warm-up's result and the last real
/// window's result; the run checks that the real results add up to every word of the input. Its topics have one
/// partition, whatever <see cref="StreamsPerfOptions.Partitions"/> says: a Streamiz task's stream time is the highest
/// timestamp it has seen from any upstream task, so on a backlog over two partitions, one read ahead of the other, the
/// records of the one behind were dropped as late (half the words, with a 10 s grace); a Quill.Streams job takes the
/// minimum over its partitions and drops none. Latency: probe lines in wall-clock event time, then filler lines at the
/// same rate until the last probe's window has closed; a probe's first word is counted once in its window, and the
/// latency is the time the reader gets that result minus the moment the window could first close, its end plus the
/// bound (the window's length and the bound are the job's choice, not its delay).
/// </para>
/// </summary>
public static class StreamsPerf
{
    public const int WordsPerLine = 5;
    public const int Vocabulary = 1000;

    /// <summary>The windowed count: tumbling windows of event time, and the bound on out-of-orderness (Streamiz: the grace).</summary>
    public const long WindowMs = 1000;
    public const long OutOfOrdernessMs = 1000;

    /// <summary>The windowed count's input: event time advances 1 ms every this many lines.</summary>
    public const int LinesPerEventMs = 10;

    public static readonly string[] AllCases =
        ["raw", "raw-tuned", "quill-map", "streamiz-map", "quill-count", "streamiz-count", "quill-window", "streamiz-window"];

    public static async Task<List<StreamsPerfResult>> RunAsync(StreamsPerfOptions options, Action<string> log, CancellationToken ct)
    {
        var results = new List<StreamsPerfResult>();
        string run = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        int failures = 0;
        for (int round = 1; round <= options.Rounds; round++)
        {
            foreach (string name in options.Cases)
            {
                ct.ThrowIfCancellationRequested();
                StreamsPerfResult result;
                try
                {
                    result = await RunCaseAsync(options, name, $"perf-streams-{run}-{round}-{name}", round, log, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    // One failed case (a stall on a busy machine) does not lose the others; it is left out of the medians.
                    log($"round {round} {name,-15} FAILED: {e.Message}");
                    failures++;
                    continue;
                }
                log($"round {round} {name,-15} {result.LinesPerSecond,10:0} lines/s   cpu {result.CpuMicrosPerLine,6:0.0} us/line   " +
                    $"latency p50 {result.Percentile(50),8:0.0} ms  p99 {result.Percentile(99),8:0.0} ms  ({result.Latency.TotalCount} probes)");
                results.Add(result);
            }
        }
        if (failures > 0) log($"{failures} case(s) failed");
        return results;
    }

    private static async Task<StreamsPerfResult> RunCaseAsync(StreamsPerfOptions options, string name, string prefix, int round,
        Action<string> log, CancellationToken ct)
    {
        var topology = name.EndsWith("-count", StringComparison.Ordinal) ? StreamsPerfTopology.Count
            : name.EndsWith("-window", StringComparison.Ordinal) ? StreamsPerfTopology.Window : StreamsPerfTopology.Map;
        bool windowed = topology == StreamsPerfTopology.Window;
        if (windowed) options = options with { Partitions = 1 }; // see the class
        string input = prefix + "-in", output = prefix + "-out";
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = options.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([
                new TopicSpecification { Name = input, NumPartitions = options.Partitions, ReplicationFactor = 1 },
                new TopicSpecification { Name = output, NumPartitions = options.Partitions, ReplicationFactor = 1 },
            ]);
        }
        var windows = await LoadAsync(options, input, windowed, ct);
        long expected = topology switch
        {
            StreamsPerfTopology.Count => options.Lines * WordsPerLine,
            StreamsPerfTopology.Window => windows!.Results,
            _ => options.Lines,
        };
        var reader = new OutputReader(options.BootstrapServers, output, options.Partitions, windows);
        var reading = Task.Factory.StartNew(() => reader.Read(ct), TaskCreationOptions.LongRunning);
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        await using var processor = Start(options, name, topology, input, output, prefix);
        try
        {
            await WaitAsync(() => (windowed ? reader.WindowResults : reader.Outputs) >= expected, reader, processor, options.StallTimeout, $"{name}: {expected} outputs", ct);
            double seconds = Stopwatch.GetElapsedTime(reader.FirstOutputAt, reader.LastOutputAt).TotalSeconds;
            double linesPerSecond = windowed
                ? options.Lines / Math.Max(seconds, 1e-6)
                : (expected - 1) / Math.Max(seconds, 1e-6) / (expected / (double)options.Lines);
            if (windowed && reader.WindowCountSum != options.Lines * WordsPerLine)
                throw new InvalidOperationException($"{name}: the window results count {reader.WindowCountSum} words, the input has " +
                                                    $"{options.Lines * WordsPerLine} (records dropped as late, or results repeated)");
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart + processor.OwnProcessorTime;
            double cpuMicrosPerLine = cpu.TotalMicroseconds / options.Lines;

            long probes = await ProbeAsync(options, input, windowed, ct);
            await WaitAsync(() => reader.Probes >= probes, reader, processor, options.StallTimeout, $"{name}: {probes} probes", ct);
            return new StreamsPerfResult(name, round, options.Lines, linesPerSecond, reader.Latency, cpuMicrosPerLine);
        }
        finally
        {
            reader.Stop();
            await reading;
        }
    }

    private static IStreamsPerfProcessor Start(StreamsPerfOptions options, string name, StreamsPerfTopology topology, string input,
        string output, string id) => name switch
        {
            "raw" => new RawLoopProcessor(options.BootstrapServers, input, options.Partitions, output, id),
            "raw-tuned" => new RawLoopProcessor(options.BootstrapServers, input, options.Partitions, output, id, tuned: true),
            "quill-map" or "quill-count" or "quill-window" => new QuillStreamsProcessor(topology, options.BootstrapServers, input, output, id, options.Parallelism),
            "streamiz-map" or "streamiz-count" or "streamiz-window" => new StreamizProcessor(options.StreamizBench!, topology, options.BootstrapServers, input, output,
                id, options.Parallelism),
            _ => throw new ArgumentException($"unknown case '{name}'"),
        };

    /// <summary>Waits for a condition while output keeps coming; fails when none came for the stall timeout or the processor died.</summary>
    private static async Task WaitAsync(Func<bool> done, OutputReader reader, IStreamsPerfProcessor processor, TimeSpan stall,
        string what, CancellationToken ct)
    {
        long seen = -1;
        var since = Stopwatch.GetTimestamp();
        while (!done())
        {
            if (processor.Running.IsCompleted) await processor.Running; // throws its failure
            if (reader.Failure is { } failure) throw new InvalidOperationException($"reading the output failed: {failure.Message}", failure);
            long now = reader.Outputs;
            if (now != seen)
            {
                seen = now;
                since = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(since) > stall)
                throw new TimeoutException($"waiting for {what}: {now} outputs, none for {stall.TotalSeconds:0} s");
            await Task.Delay(20, ct);
        }
    }

    private static ProducerConfig ProducerConfig(StreamsPerfOptions options, int lingerMs = 5) =>
        new() { BootstrapServers = options.BootstrapServers, Acks = Acks.All, EnableIdempotence = true, LingerMs = lingerMs };

    /// <summary>
    /// The input: lines of five words out of a vocabulary of 1000, the same for every case and round. For the windowed
    /// count, with event timestamps, a warm-up and closing lines (see the class).
    /// </summary>
    private static async Task<WindowedInput?> LoadAsync(StreamsPerfOptions options, string input, bool windowed, CancellationToken ct)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(ProducerConfig(options)).Build();
        var random = new Random(42);
        Exception? failure = null;
        Action<DeliveryReport<byte[]?, byte[]?>> onDelivery = r => { if (r.Error.IsError) failure ??= new KafkaException(r.Error); };
        var line = new StringBuilder();
        long eventSpanMs = (options.Lines + LinesPerEventMs - 1) / LinesPerEventMs;
        // Aligned to the windows (epoch multiples), so that each holds the same lines.
        long startMs = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - eventSpanMs - 2 * OutOfOrdernessMs - 60_000) / WindowMs * WindowMs;
        var windowWords = new HashSet<long>();
        // On every partition (a source's watermark is the minimum over its partitions) and with words enough to reach
        // every partition of a repartition topic (Streamiz's stream time is per task).
        byte[] marker = Encoding.UTF8.GetBytes(string.Join(' ', Enumerable.Range(0, 100).Select(w => "w" + w)));
        if (windowed)
        {
            // Its window closes at the first real line: its end plus the bound is startMs.
            for (int p = 0; p < options.Partitions; p++) Produce(producer, input, marker, onDelivery, ct, startMs - OutOfOrdernessMs - WindowMs, p);
        }
        for (long i = 0; i < options.Lines; i++)
        {
            line.Clear();
            long timestampMs = startMs + i / LinesPerEventMs;
            for (int w = 0; w < WordsPerLine; w++)
            {
                int word = random.Next(Vocabulary);
                line.Append(w == 0 ? "w" : " w").Append(word);
                if (windowed) windowWords.Add((timestampMs - startMs) / WindowMs * Vocabulary + word);
            }
            // The windowed count's partitions in turn, so that event time advances alike on each.
            Produce(producer, input, Encoding.UTF8.GetBytes(line.ToString()), onDelivery, ct, windowed ? timestampMs : null,
                windowed ? (int)(i % options.Partitions) : null);
        }
        if (windowed)
        {
            long closingMs = EndMs() + OutOfOrdernessMs;
            for (int p = 0; p < options.Partitions; p++) Produce(producer, input, marker, onDelivery, ct, closingMs, p);
        }
        while (producer.Flush(TimeSpan.FromMilliseconds(500)) > 0) ct.ThrowIfCancellationRequested();
        if (failure is not null) throw new InvalidOperationException($"loading '{input}' failed: {failure.Message}", failure);
        await Task.CompletedTask;
        return windowed ? new WindowedInput(startMs, EndMs(), windowWords.Count) : null;

        long EndMs() => startMs + (eventSpanMs + WindowMs - 1) / WindowMs * WindowMs;
    }

    /// <summary>
    /// Probe lines at the latency rate; returns how many were sent. For the windowed count, filler lines (no probe word)
    /// follow at the same rate until the last probe's window has closed in event time, and then one on every partition.
    /// </summary>
    private static async Task<long> ProbeAsync(StreamsPerfOptions options, string input, bool windowed, CancellationToken ct)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(ProducerConfig(options, lingerMs: 0)).Build();
        long total = (long)options.LatencyRate * options.LatencySeconds, sent = 0;
        var started = Stopwatch.GetTimestamp();
        var random = new Random(7);
        long lastProbeMs = 0, closedAtMs = long.MaxValue;
        for (long lines = 0; sent < total || DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < closedAtMs;)
        {
            long due = (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * options.LatencyRate);
            for (; lines < due && (windowed || sent < total); lines++)
            {
                var now = DateTime.UtcNow;
                string words = $"w{random.Next(Vocabulary)} w{random.Next(Vocabulary)} w{random.Next(Vocabulary)} w{random.Next(Vocabulary)}";
                string line = sent < total ? $"p{now.Ticks} {words}" : $"w{random.Next(Vocabulary)} {words}";
                long timestampMs = (now.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
                Produce(producer, input, Encoding.UTF8.GetBytes(line), null, ct, timestampMs);
                if (sent < total)
                {
                    lastProbeMs = timestampMs;
                    sent++;
                }
            }
            if (sent == total && closedAtMs == long.MaxValue)
                closedAtMs = windowed ? (lastProbeMs / WindowMs + 1) * WindowMs + OutOfOrdernessMs + 200 : 0;
            await Task.Delay(1, ct);
        }
        if (windowed)
        {
            long nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            for (int p = 0; p < options.Partitions; p++) Produce(producer, input, "w0"u8.ToArray(), null, ct, nowMs, p);
        }
        while (producer.Flush(TimeSpan.FromMilliseconds(500)) > 0) ct.ThrowIfCancellationRequested();
        return total;
    }

    private static void Produce(IProducer<byte[]?, byte[]?> producer, string topic, byte[] value,
        Action<DeliveryReport<byte[]?, byte[]?>>? onDelivery, CancellationToken ct, long? timestampMs = null, int? partition = null)
    {
        var message = new Message<byte[]?, byte[]?> { Value = value };
        if (timestampMs is { } ms) message.Timestamp = new Timestamp(ms, TimestampType.CreateTime);
        while (true)
        {
            try
            {
                if (partition is { } p) producer.Produce(new TopicPartition(topic, p), message, onDelivery);
                else producer.Produce(topic, message, onDelivery);
                return;
            }
            catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                ct.ThrowIfCancellationRequested();
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }
}
