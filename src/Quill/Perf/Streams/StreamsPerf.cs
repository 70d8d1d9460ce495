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
/// </summary>
public static class StreamsPerf
{
    public const int WordsPerLine = 5;
    public const int Vocabulary = 1000;

    public static readonly string[] AllCases = ["raw", "raw-tuned", "quill-map", "streamiz-map", "quill-count", "streamiz-count"];

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
        var topology = name.EndsWith("-count", StringComparison.Ordinal) ? StreamsPerfTopology.Count : StreamsPerfTopology.Map;
        string input = prefix + "-in", output = prefix + "-out";
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = options.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([
                new TopicSpecification { Name = input, NumPartitions = options.Partitions, ReplicationFactor = 1 },
                new TopicSpecification { Name = output, NumPartitions = options.Partitions, ReplicationFactor = 1 },
            ]);
        }
        await LoadAsync(options, input, ct);
        long expected = options.Lines * (topology == StreamsPerfTopology.Count ? WordsPerLine : 1);
        var reader = new OutputReader(options.BootstrapServers, output, options.Partitions);
        var reading = Task.Factory.StartNew(() => reader.Read(ct), TaskCreationOptions.LongRunning);
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        await using var processor = Start(options, name, topology, input, output, prefix);
        try
        {
            await WaitAsync(() => reader.Outputs >= expected, reader, processor, options.StallTimeout, $"{name}: {expected} outputs", ct);
            double seconds = Stopwatch.GetElapsedTime(reader.FirstOutputAt, reader.LastOutputAt).TotalSeconds;
            double linesPerSecond = (expected - 1) / Math.Max(seconds, 1e-6) / (expected / (double)options.Lines);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart + processor.OwnProcessorTime;
            double cpuMicrosPerLine = cpu.TotalMicroseconds / options.Lines;

            long probes = await ProbeAsync(options, input, ct);
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
            "quill-map" or "quill-count" => new QuillStreamsProcessor(topology, options.BootstrapServers, input, output, id, options.Parallelism),
            "streamiz-map" or "streamiz-count" => new StreamizProcessor(options.StreamizBench!, topology, options.BootstrapServers, input, output,
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

    /// <summary>The input: lines of five words out of a vocabulary of 1000, the same for every case and round.</summary>
    private static async Task LoadAsync(StreamsPerfOptions options, string input, CancellationToken ct)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(ProducerConfig(options)).Build();
        var random = new Random(42);
        Exception? failure = null;
        Action<DeliveryReport<byte[]?, byte[]?>> onDelivery = r => { if (r.Error.IsError) failure ??= new KafkaException(r.Error); };
        var line = new StringBuilder();
        for (long i = 0; i < options.Lines; i++)
        {
            line.Clear();
            for (int w = 0; w < WordsPerLine; w++) line.Append(w == 0 ? "w" : " w").Append(random.Next(Vocabulary));
            Produce(producer, input, Encoding.UTF8.GetBytes(line.ToString()), onDelivery, ct);
        }
        while (producer.Flush(TimeSpan.FromMilliseconds(500)) > 0) ct.ThrowIfCancellationRequested();
        if (failure is not null) throw new InvalidOperationException($"loading '{input}' failed: {failure.Message}", failure);
        await Task.CompletedTask;
    }

    /// <summary>Probe lines at the latency rate; returns how many were sent.</summary>
    private static async Task<long> ProbeAsync(StreamsPerfOptions options, string input, CancellationToken ct)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(ProducerConfig(options, lingerMs: 0)).Build();
        long total = (long)options.LatencyRate * options.LatencySeconds, sent = 0;
        var started = Stopwatch.GetTimestamp();
        var random = new Random(7);
        while (sent < total)
        {
            long due = (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * options.LatencyRate);
            for (; sent < Math.Min(due, total); sent++)
            {
                string line = $"p{DateTime.UtcNow.Ticks} w{random.Next(Vocabulary)} w{random.Next(Vocabulary)} w{random.Next(Vocabulary)} w{random.Next(Vocabulary)}";
                Produce(producer, input, Encoding.UTF8.GetBytes(line), null, ct);
            }
            await Task.Delay(1, ct);
        }
        while (producer.Flush(TimeSpan.FromMilliseconds(500)) > 0) ct.ThrowIfCancellationRequested();
        return total;
    }

    private static void Produce(IProducer<byte[]?, byte[]?> producer, string topic, byte[] value,
        Action<DeliveryReport<byte[]?, byte[]?>>? onDelivery, CancellationToken ct)
    {
        var message = new Message<byte[]?, byte[]?> { Value = value };
        while (true)
        {
            try
            {
                producer.Produce(topic, message, onDelivery);
                return;
            }
            catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                ct.ThrowIfCancellationRequested();
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    /// <summary>Reads the output topic from the start on its own thread: counts records, times probes.</summary>
    private sealed class OutputReader(string bootstrap, string topic, int partitions)
    {
        private long _outputs;
        private long _probes;
        private volatile bool _stop;

        public long Outputs => Interlocked.Read(ref _outputs);
        public long Probes => Interlocked.Read(ref _probes);
        public long FirstOutputAt { get; private set; }
        public long LastOutputAt { get; private set; }
        public LongHistogram Latency { get; } = new(TimeSpan.FromMinutes(10).Ticks / 10, 3);
        public Exception? Failure { get; private set; }

        public void Stop() => _stop = true;

        public void Read(CancellationToken ct)
        {
            try
            {
                var config = new ConsumerConfig
                {
                    BootstrapServers = bootstrap, GroupId = topic + "-reader", EnableAutoCommit = false,
                    // librdkafka's default fetch.wait.max.ms (500): a fetch returns as soon as a record is there, so a
                    // shorter wait only adds fetches of empty partitions.
                    AutoOffsetReset = AutoOffsetReset.Earliest,
                };
                using var consumer = new ConsumerBuilder<byte[]?, Ignore>(config).Build();
                consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
                while (!_stop && !ct.IsCancellationRequested)
                {
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                    if (result is null || result.IsPartitionEOF) continue;
                    long at = Stopwatch.GetTimestamp();
                    if (FirstOutputAt == 0) FirstOutputAt = at;
                    LastOutputAt = at;
                    var key = result.Message.Key;
                    if (key is { Length: > 1 } && key[0] == (byte)'p')
                    {
                        int end = Array.IndexOf(key, (byte)' ');
                        if (long.TryParse(Encoding.ASCII.GetString(key, 1, (end < 0 ? key.Length : end) - 1), out long ticks))
                        {
                            long micros = (DateTime.UtcNow.Ticks - ticks) / 10;
                            Latency.RecordValue(Math.Max(1, micros));
                            Interlocked.Increment(ref _probes);
                        }
                    }
                    Interlocked.Increment(ref _outputs);
                }
                consumer.Close();
            }
            catch (Exception e)
            {
                Failure = e;
            }
        }
    }
}
