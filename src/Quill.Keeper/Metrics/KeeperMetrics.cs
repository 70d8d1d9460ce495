using System.Diagnostics.Metrics;

namespace Quill.Keeper.Metrics;

/// <summary>
/// Counters the four-letter words report, and the server's <see cref="Meter"/> the metrics endpoint exports. Written
/// on the request processor's thread; readers elsewhere may see slightly stale numbers, which is fine for monitoring.
/// </summary>
public sealed class KeeperMetrics : IDisposable
{
    public long PacketsReceived;
    public long PacketsSent;
    public long LatencyCount;
    public long LatencySumMs;
    public long LatencyMinMs = long.MaxValue;
    public long LatencyMaxMs;
    private readonly Histogram<double> _latency;

    /// <summary>Upper bounds (ms) of the request latency histogram.</summary>
    public static readonly double[] Buckets = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];

    public KeeperMetrics()
    {
        // One meter per server, so servers sharing a process (tests, `quill start`) keep their numbers apart.
        Meter = new Meter("Quill.Keeper");
        _latency = Meter.CreateHistogram<double>("request_latency_ms", description: "Time from a request's arrival to its answer (ms).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
    }

    public Meter Meter { get; }

    /// <summary>
    /// Called on the request processor's thread for every answer, so it stays a few plain field updates; the
    /// histogram is fed only while a metrics endpoint listens to it (one field read otherwise).
    /// </summary>
    public void RecordLatency(long ms)
    {
        LatencyCount++;
        LatencySumMs += ms;
        if (ms < LatencyMinMs) LatencyMinMs = ms;
        if (ms > LatencyMaxMs) LatencyMaxMs = ms;
        if (_latency.Enabled) _latency.Record(ms);
    }

    /// <summary>Elections this server took part in, and how long the last one took (ms).</summary>
    public long Elections;
    public long LastElectionMs;

    public void RecordElection(TimeSpan took)
    {
        Interlocked.Increment(ref Elections);
        Volatile.Write(ref LastElectionMs, (long)took.TotalMilliseconds);
    }

    public double AvgLatency => LatencyCount == 0 ? 0 : (double)LatencySumMs / LatencyCount;
    public long MinLatency => LatencyCount == 0 ? 0 : LatencyMinMs;

    /// <summary>srst: resets what mntr reports; the exported histogram keeps counting, as Prometheus expects.</summary>
    public void Reset()
    {
        PacketsReceived = PacketsSent = LatencyCount = LatencySumMs = LatencyMaxMs = 0;
        LatencyMinMs = long.MaxValue;
    }

    public void Dispose() => Meter.Dispose();
}
