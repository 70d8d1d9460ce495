using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using HdrHistogram;

namespace Quill.Perf.Streams;

/// <summary>
/// The windowed count's input: its lines' windows start at <paramref name="StartMs"/> and end by
/// <paramref name="EndMs"/>; they make <paramref name="Results"/> (word, window) results.
/// </summary>
internal sealed record WindowedInput(long StartMs, long EndMs, long Results);

/// <summary>
/// Reads the output topic from the start on its own thread: counts records, times probes. With
/// <paramref name="windows"/> the values are window results, "COUNT WINDOW_END_MS": it counts the results of the
/// input's windows and adds their counts up, and a probe's latency runs from its window's end plus the bound.
/// </summary>
internal sealed class OutputReader(string bootstrap, string topic, int partitions, WindowedInput? windows)
{
    private long _outputs;
    private long _probes;
    private long _windowResults;
    private long _windowCountSum;
    private volatile bool _stop;

    public long Outputs => Interlocked.Read(ref _outputs);
    public long Probes => Interlocked.Read(ref _probes);
    public long WindowResults => Interlocked.Read(ref _windowResults);
    public long WindowCountSum => Interlocked.Read(ref _windowCountSum);
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
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
                .SetValueDeserializer(windows is null ? NoValue.Instance : Deserializers.ByteArray).Build();
            consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
            while (!_stop && !ct.IsCancellationRequested)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (result is null || result.IsPartitionEOF) continue;
                long at = Stopwatch.GetTimestamp();
                if (FirstOutputAt == 0) FirstOutputAt = at;
                LastOutputAt = at;
                var key = result.Message.Key;
                if (windows is not null)
                {
                    if (!TryParseWindowResult(result.Message.Value, out long count, out long endMs))
                        throw new FormatException($"not a window result: '{Encoding.UTF8.GetString(result.Message.Value ?? [])}'");
                    if (key is { Length: > 1 } && key[0] == (byte)'p')
                    {
                        long closableTicks = DateTime.UnixEpoch.Ticks + (endMs + StreamsPerf.OutOfOrdernessMs) * TimeSpan.TicksPerMillisecond;
                        Latency.RecordValue(Math.Max(1, (DateTime.UtcNow.Ticks - closableTicks) / 10));
                        Interlocked.Increment(ref _probes);
                    }
                    else if (endMs > windows.StartMs && endMs <= windows.EndMs)
                    {
                        // Neither the warm-up's window nor the closing lines' (which closes with the probes).
                        Interlocked.Increment(ref _windowResults);
                        Interlocked.Add(ref _windowCountSum, count);
                    }
                }
                else if (key is { Length: > 1 } && key[0] == (byte)'p')
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

    private static bool TryParseWindowResult(byte[]? value, out long count, out long endMs)
    {
        count = endMs = 0;
        if (value is null) return false;
        int space = Array.IndexOf(value, (byte)' ');
        return space > 0
               && long.TryParse(value.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out count)
               && long.TryParse(value.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out endMs);
    }

    /// <summary>The value unread (the count and map cases need only the key).</summary>
    private sealed class NoValue : IDeserializer<byte[]?>
    {
        public static readonly NoValue Instance = new();

        public byte[]? Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) => null;
    }
}
