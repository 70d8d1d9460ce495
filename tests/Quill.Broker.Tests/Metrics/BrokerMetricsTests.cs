using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Quill.Broker.Groups;
using Quill.Broker.Metadata;
using Quill.Broker.Metrics;
using Quill.Broker.Tests.Groups;
using Quill.Kafka.Protocol;
using static Quill.Broker.Tests.Groups.GroupRequests;

namespace Quill.Broker.Tests.Metrics;

/// <summary>
/// The group gauges: the shards own their groups on their own loops, so the counts are taken before a scrape
/// (<see cref="BrokerMetrics.RefreshAsync"/>, the metrics endpoint's hook) and the gauge callbacks only read them.
/// </summary>
public class BrokerMetricsTests
{
    private const string NumGroups = "kafka_coordinator_group_groupmetadatamanager_numgroups";

    [Fact]
    public async Task group_gauges_show_the_counts_taken_before_the_scrape_and_a_stuck_shard_keeps_the_last_ones()
    {
        var gated = new GatedOffsetsLog();
        using var h = new GroupHarness(wrapLog: gated.Wrap);
        using var metrics = new BrokerMetrics();
        metrics.Observe(Services(h.Coordinator, metrics));
        Assert.All(CommitErrors(await h.CommitOffsets("empty-group", offsets: ("t", 0, 1)).Within()), e => Assert.Equal(KafkaError.None, e.Error));
        await h.FormGroup("stable-group", "a");

        // Reading a gauge asks no shard: until a refresh the gauges show the counts of the last one (none yet).
        Assert.Equal(0, GroupGauges(metrics)[NumGroups]);
        await metrics.RefreshAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        var gauges = GroupGauges(metrics);
        Assert.Equal(2, gauges[NumGroups]);
        Assert.Equal(1, gauges[NumGroups + "empty"]);
        Assert.Equal(1, gauges[NumGroups + "stable"]);
        Assert.Equal(0, gauges[NumGroups + "preparingrebalance"]);

        // A shard stuck behind a slow write: the refresh gives up on it (the scrape is answered) and the gauges keep
        // the last counts.
        string third = "third-group";
        gated.Hold(h.Coordinator.PartitionFor(third));
        var commit = h.CommitOffsets(third, offsets: ("t", 0, 1));
        await gated.Held.WaitAsync(TimeSpan.FromSeconds(10));
        await metrics.RefreshAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, GroupGauges(metrics)[NumGroups]);

        gated.Release();
        Assert.All(CommitErrors(await commit.Within()), e => Assert.Equal(KafkaError.None, e.Error));
        await metrics.RefreshAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        gauges = GroupGauges(metrics);
        Assert.Equal(3, gauges[NumGroups]);
        Assert.Equal(2, gauges[NumGroups + "empty"]);
    }

    /// <summary>Only what the group gauges read: the metadata (empty) and the group coordinator.</summary>
    private static BrokerServices Services(GroupCoordinator groups, BrokerMetrics metrics) => new()
    {
        Metrics = metrics,
        Options = new BrokerOptions(),
        Metadata = new MetadataCache(),
        Loggers = NullLoggerFactory.Instance,
        Time = TimeProvider.System,
        Replicas = null!,
        DynamicConfig = null!,
        Controller = null!,
        ProducerIds = null!,
        Zk = null!,
        Groups = groups,
    };

    /// <summary>One collection of the group gauges, as an exporter's scrape reads them.</summary>
    private static Dictionary<string, int> GroupGauges(BrokerMetrics metrics)
    {
        var values = new Dictionary<string, int>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == metrics.Meter && instrument.Name.StartsWith(NumGroups, StringComparison.Ordinal))
                    l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => values[instrument.Name] = value);
        listener.Start();
        listener.RecordObservableInstruments();
        return values;
    }
}
