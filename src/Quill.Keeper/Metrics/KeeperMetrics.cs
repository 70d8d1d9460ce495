namespace Quill.Keeper.Metrics;

/// <summary>
/// Counters the four-letter words and the Prometheus endpoint report. Written on the request processor's thread;
/// readers elsewhere may see slightly stale numbers, which is fine for monitoring.
/// </summary>
public sealed class KeeperMetrics
{
    public long PacketsReceived;
    public long PacketsSent;
    public long LatencyCount;
    public long LatencySumMs;
    public long LatencyMinMs = long.MaxValue;
    public long LatencyMaxMs;
    private readonly long[] _latencyBuckets = new long[Buckets.Length + 1];

    /// <summary>Upper bounds (ms) of the request latency histogram.</summary>
    public static readonly double[] Buckets = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];

    public void RecordLatency(long ms)
    {
        LatencyCount++;
        LatencySumMs += ms;
        if (ms < LatencyMinMs) LatencyMinMs = ms;
        if (ms > LatencyMaxMs) LatencyMaxMs = ms;
        int i = 0;
        while (i < Buckets.Length && ms > Buckets[i]) i++;
        _latencyBuckets[i]++;
    }

    public long BucketCount(int i) => _latencyBuckets[i];

    public double AvgLatency => LatencyCount == 0 ? 0 : (double)LatencySumMs / LatencyCount;
    public long MinLatency => LatencyCount == 0 ? 0 : LatencyMinMs;

    public void Reset()
    {
        PacketsReceived = PacketsSent = LatencyCount = LatencySumMs = LatencyMaxMs = 0;
        LatencyMinMs = long.MaxValue;
        Array.Clear(_latencyBuckets);
    }
}
