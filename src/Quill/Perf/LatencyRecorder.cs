using System.Diagnostics;
using HdrHistogram;

namespace Quill.Perf;

/// <summary>Per-worker latency histograms (HdrHistogram is not thread-safe), merged at the end. Values in microseconds.</summary>
public sealed class LatencyRecorder
{
    private readonly LongHistogram _histogram = new(TimeSpan.FromMinutes(10).Ticks / 10, 3);

    public void Record(long startTimestamp)
    {
        long micros = (long)Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds;
        _histogram.RecordValue(Math.Max(1, micros));
    }

    public static LongHistogram Merge(IEnumerable<LatencyRecorder> recorders)
    {
        var total = new LongHistogram(TimeSpan.FromMinutes(10).Ticks / 10, 3);
        foreach (var r in recorders) total.Add(r._histogram);
        return total;
    }
}
