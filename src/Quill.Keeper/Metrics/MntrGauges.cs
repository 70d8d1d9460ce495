using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Quill.Keeper.Metrics;

/// <summary>
/// The numbers of <c>mntr</c> as instruments under ZooKeeper's names (znode_count, watch_count, packets_received, ...),
/// gauges as ZooKeeper's Prometheus provider registers them, counters where the number only grows. The state they
/// read belongs to the request processor's thread, so <see cref="RefreshAsync"/> copies it through the processor's
/// query path before each scrape and the instruments read that copy.
/// </summary>
public sealed class MntrGauges
{
    /// <summary>mntr numbers that never go down (srst does not reset them).</summary>
    private static readonly FrozenSet<string> Monotonic = FrozenSet.ToFrozenSet(["fsync_count", "fsync_time_ms_total"], StringComparer.Ordinal);

    private readonly KeeperServer _server;
    private volatile IReadOnlyDictionary<string, double> _values = new Dictionary<string, double>();

    private MntrGauges(KeeperServer server) => _server = server;

    /// <summary>Registers one instrument per numeric mntr key (the keys are read from mntr itself, so the two agree).</summary>
    public static async Task<MntrGauges> CreateAsync(KeeperServer server, Meter meter)
    {
        var gauges = new MntrGauges(server);
        await gauges.RefreshAsync(CancellationToken.None).ConfigureAwait(false);
        foreach (var key in gauges._values.Keys)
        {
            if (Monotonic.Contains(key)) meter.CreateObservableCounter(key, () => gauges.Read(key), description: $"mntr zk_{key}");
            else meter.CreateObservableGauge(key, () => gauges.Read(key), description: $"mntr zk_{key}");
        }
        return gauges;
    }

    public async Task RefreshAsync(CancellationToken ct)
    {
        // The query path answers text (it serves the four-letter words); the numbers come back through the closure.
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        try
        {
            if (_server.Processor is not { } processor)
            {
                // Between terms of an ensemble member: nothing to ask the owner thread; the state numbers read 0.
                foreach (var (key, text) in _server.FourLetterWords.MetricValues())
                    if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) values[key] = value;
                _values = values;
                return;
            }
            await processor.QueryAsync(() =>
            {
                foreach (var (key, text) in _server.FourLetterWords.MetricValues())
                    if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) values[key] = value;
                return "";
            }).WaitAsync(ct).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The processor has stopped taking work (Keeper is stopping): the scrape reports the last numbers it had.
            return;
        }
        _values = values;
    }

    private double Read(string key) => _values.GetValueOrDefault(key);
}
