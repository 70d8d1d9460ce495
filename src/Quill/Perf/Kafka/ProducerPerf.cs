using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using HdrHistogram;

namespace Quill.Perf.Kafka;

public sealed record ProducerPerfOptions(
    string BootstrapServers, string Topic, long NumRecords, int RecordSize, double Throughput, IReadOnlyList<KeyValuePair<string, string>> ProducerProps);

public sealed record ProducerPerfResult(long Records, long Errors, long Bytes, TimeSpan Elapsed, LongHistogram Latency, string? FirstError)
{
    public double RecordsPerSecond => Records / Elapsed.TotalSeconds;
    public double MegabytesPerSecond => Bytes / 1024.0 / 1024.0 / Elapsed.TotalSeconds;
    public double Percentile(double p) => Latency.TotalCount == 0 ? 0 : Latency.GetValueAtPercentile(p) / 1000.0;
    public double AverageMs => Latency.TotalCount == 0 ? 0 : Latency.GetMean() / 1000.0;
    public double MaxMs => Latency.TotalCount == 0 ? 0 : Latency.GetMaxValue() / 1000.0;

    /// <summary>kafka-producer-perf-test's final line, field for field (its percentiles are whole milliseconds).</summary>
    public string KafkaLine() => string.Format(CultureInfo.InvariantCulture,
        "{0} records sent, {1:0.000000} records/sec ({2:0.00} MB/sec), {3:0.00} ms avg latency, {4:0.00} ms max latency, " +
        "{5} ms 50th, {6} ms 95th, {7} ms 99th, {8} ms 99.9th.",
        Records, RecordsPerSecond, MegabytesPerSecond, AverageMs, MaxMs,
        (long)Percentile(50), (long)Percentile(95), (long)Percentile(99), (long)Percentile(99.9));
}

/// <summary>
/// kafka-producer-perf-test on Confluent.Kafka: one producer sends N records of a fixed random payload as fast as
/// it is allowed (or at a target rate), timing each from send to acknowledgement. Every 5 s it reports the last
/// window in Kafka's progress-line format.
/// </summary>
public static class ProducerPerf
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(5);

    /// <param name="windowReport">Called with each 5-second window line (from the delivery-report thread).</param>
    /// <param name="progress">Acknowledged records so far, for a progress bar (from the delivery-report thread).</param>
    public static async Task<ProducerPerfResult> RunAsync(ProducerPerfOptions o, Action<string>? windowReport = null,
        Action<long>? progress = null, CancellationToken ct = default)
    {
        var config = new ProducerConfig { BootstrapServers = o.BootstrapServers };
        foreach (var (key, value) in o.ProducerProps) config.Set(key, value);
        config.DeliveryReportFields = "none"; // only the error is needed

        // Kafka's payload: random upper-case letters, made once and sent for every record.
        var payload = new byte[o.RecordSize];
        var rng = new Random(42);
        for (int i = 0; i < payload.Length; i++) payload[i] = (byte)('A' + rng.Next(26));
        var message = new Message<Null, byte[]> { Value = payload };

        var stats = new DeliveryStats(o.RecordSize, windowReport, progress);
        using var producer = new ProducerBuilder<Null, byte[]>(config).Build();
        var throttle = new Throttle(o.Throughput);
        long started = Stopwatch.GetTimestamp();
        stats.Start(started);
        for (long i = 0; i < o.NumRecords; i++)
        {
            ct.ThrowIfCancellationRequested();
            long sendTime = Stopwatch.GetTimestamp();
            // The handler must know its record's send time; a closure per record is the price (Kafka's tool pays the same).
            Action<DeliveryReport<Null, byte[]>> handler = report => stats.Completed(sendTime, report.Error);
            while (true)
            {
                try
                {
                    producer.Produce(o.Topic, message, handler);
                    break;
                }
                catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // librdkafka's queue is full: wait for acknowledgements to drain some of it.
                    Thread.Sleep(1);
                }
            }
            throttle.Wait(i + 1, started);
        }
        while (producer.Flush(TimeSpan.FromMilliseconds(200)) > 0) ct.ThrowIfCancellationRequested();
        // Flush returns once librdkafka's queues are empty; the last delivery handlers may still be running.
        while (stats.Done < o.NumRecords) await Task.Delay(1, ct);
        return stats.Finish();
    }

    /// <summary>
    /// Counts acknowledgements. They usually arrive on Confluent.Kafka's poll thread, but Flush polls as well, so two
    /// threads can run delivery handlers at once at the end of a run: a lock keeps the counts and the histogram whole
    /// (a lost increment used to leave the run waiting forever for its last acknowledgement).
    /// </summary>
    private sealed class DeliveryStats(int recordSize, Action<string>? windowReport, Action<long>? progress)
    {
        private readonly Lock _lock = new();
        private readonly LongHistogram _latency = new(TimeSpan.FromMinutes(10).Ticks / 10, 3);
        private long _started, _records, _errors, _windowStart, _windowCount, _windowLatencySum, _windowMax;
        private string? _firstError;
        private long _finished;

        public long Done => Volatile.Read(ref _done);
        private long _done;

        public void Start(long timestamp)
        {
            _started = timestamp;
            _windowStart = timestamp;
        }

        public void Completed(long sendTime, Error error)
        {
            lock (_lock)
            {
                try
                {
                    Record(sendTime, error);
                }
                finally
                {
                    Volatile.Write(ref _done, _done + 1);
                }
            }
        }

        private void Record(long sendTime, Error error)
        {
            long now = Stopwatch.GetTimestamp();
            if (error.IsError)
            {
                _firstError ??= $"{error.Reason} ({error.Code})";
                _errors++;
                return;
            }
            long micros = Math.Max(1, (now - sendTime) * 1_000_000 / Stopwatch.Frequency);
            _latency.RecordValue(micros);
            _records++;
            _windowCount++;
            _windowLatencySum += micros;
            _windowMax = Math.Max(_windowMax, micros);
            _finished = now;
            progress?.Invoke(_records);
            if (windowReport is not null && Stopwatch.GetElapsedTime(_windowStart, now) >= Window)
            {
                double seconds = Stopwatch.GetElapsedTime(_windowStart, now).TotalSeconds;
                windowReport(string.Format(CultureInfo.InvariantCulture,
                    "{0} records sent, {1:0.0} records/sec ({2:0.00} MB/sec), {3:0.0} ms avg latency, {4:0.0} ms max latency.",
                    _windowCount, _windowCount / seconds, _windowCount * (double)recordSize / 1024 / 1024 / seconds,
                    _windowLatencySum / 1000.0 / _windowCount, _windowMax / 1000.0));
                _windowStart = now;
                _windowCount = _windowLatencySum = _windowMax = 0;
            }
        }

        public ProducerPerfResult Finish()
        {
            lock (_lock) return FinishLocked();
        }

        private ProducerPerfResult FinishLocked()
        {
            var elapsed = Stopwatch.GetElapsedTime(_started, Math.Max(_finished, _started + 1));
            return new ProducerPerfResult(_records, _errors, _records * recordSize, elapsed, _latency, _firstError);
        }
    }

    /// <summary>Keeps the send rate at or under the target (records/s); a target of zero or less means no limit.</summary>
    private sealed class Throttle(double target)
    {
        public void Wait(long sent, long started)
        {
            if (target <= 0 || sent % 64 != 0) return;
            double ahead = sent / target - Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (ahead > 0.001) Thread.Sleep(TimeSpan.FromSeconds(ahead));
        }
    }
}
