using Quill.Broker.Handlers;
using Quill.Broker.Log;
using Quill.Broker.Partitions;
using Quill.Broker.Tests.Handlers;
using Quill.Kafka.Protocol.Records;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Log;

/// <summary>
/// The transactional log as Fetch and ListOffsets serve it, through the wire (<see cref="HandlerHarness"/>):
/// read_committed stops at the last stable offset and lists aborted transactions; read_uncommitted reads to the end.
/// </summary>
public sealed class ReadCommittedHandlerTests : IDisposable
{
    private readonly HandlerHarness _harness = new();
    private readonly Partition _partition;

    public ReadCommittedHandlerTests()
    {
        _partition = _harness.Replicas.Open("t", 0, Guid.NewGuid(), 0, LogConfig.Default);
        _partition.Append(Batches.Values("a", "b"));                       // 0-1
        _partition.Append(TransactionTests.Txn(1, 0, 0, "x", "y"));         // 2-3
        _partition.AppendControlMarker(1, 0, commit: false, coordinatorEpoch: 0); // 4: abort
        _partition.Append(TransactionTests.Txn(2, 0, 0, "z"));              // 5: open
        _partition.Append(Batches.Values("c"));                            // 6
    }

    public void Dispose() => _harness.Dispose();

    private async Task<StructValue> Fetch(short version, byte isolation, long offset, int maxWaitMs = 0, int minBytes = 0)
    {
        var response = await _harness.Send(new FetchHandler(_harness.Services), version, body =>
            body.SetInt("ReplicaId", -1).SetInt("MaxWaitMs", maxWaitMs).SetInt("MinBytes", minBytes).SetInt("MaxBytes", 1 << 20)
                .SetInt("IsolationLevel", isolation).SetInt("SessionEpoch", -1)
                .AddElement("Topics").SetString("Topic", "t")
                .AddElement("Partitions").SetInt("Partition", 0).SetInt("FetchOffset", offset).SetInt("PartitionMaxBytes", 1 << 20));
        return response.GetArray("Responses")![0].GetArray("Partitions")![0];
    }

    private static List<long> Offsets(StructValue partition) =>
        Batches.Records(partition.GetBytes("Records")?.ToArray() ?? []).Select(r => r.Offset).ToList();

    [Theory]
    [InlineData(4)]
    [InlineData(12)]
    public async Task Read_committed_stops_at_the_stable_offset_and_lists_the_aborted_transactions(short version)
    {
        var p = await Fetch(version, 1, 0);
        Assert.Equal([0L, 1L, 2L, 3L, 4L], Offsets(p));
        Assert.Equal(7, p.GetInt64("HighWatermark"));
        Assert.Equal(5, p.GetInt64("LastStableOffset"));
        var aborted = p.GetArray("AbortedTransactions")!;
        Assert.Equal([(1L, 2L)], aborted.Select(a => (a.GetInt64("ProducerId"), a.GetInt64("FirstOffset"))));

        var past = await Fetch(version, 1, 5);
        Assert.Empty(Offsets(past));
        Assert.NotNull(past.GetArray("AbortedTransactions"));
        Assert.Empty(past.GetArray("AbortedTransactions")!);
    }

    [Fact]
    public async Task Read_uncommitted_reads_to_the_end_but_reports_the_stable_offset()
    {
        var p = await Fetch(11, 0, 0);
        Assert.Equal([0L, 1L, 2L, 3L, 4L, 5L, 6L], Offsets(p));
        Assert.Equal(7, p.GetInt64("HighWatermark"));
        Assert.Equal(5, p.GetInt64("LastStableOffset"));
        Assert.Null(p.GetArray("AbortedTransactions"));
    }

    [Fact]
    public async Task A_waiting_read_committed_fetch_answers_when_a_marker_moves_the_stable_offset()
    {
        var waiting = Fetch(11, 1, 5, maxWaitMs: 20_000, minBytes: 1);
        // The same fetch with a short wait, started later, expires with nothing: the stable offset has not moved, and
        // the long one, which that could not satisfy either, is still waiting.
        var later = await Fetch(11, 1, 5, maxWaitMs: 200, minBytes: 1);
        Assert.Empty(Offsets(later));
        Assert.False(waiting.IsCompleted);
        _partition.Log.AppendControlMarker(2, 0, commit: true, coordinatorEpoch: 0); // 7
        var p = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([5L, 6L, 7L], Offsets(p));
        Assert.Equal(8, p.GetInt64("LastStableOffset"));
        Assert.Empty(p.GetArray("AbortedTransactions")!);
    }

    [Theory]
    [InlineData(0, 7)]
    [InlineData(1, 5)]
    public async Task ListOffsets_latest_is_the_stable_offset_for_read_committed(byte isolation, long latest)
    {
        var response = await _harness.Send(new ListOffsetsHandler(_harness.Services), 5, body =>
            body.SetInt("ReplicaId", -1).SetInt("IsolationLevel", isolation).AddElement("Topics").SetString("Name", "t")
                .AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt("Timestamp", PartitionLog.LatestTimestamp));
        Assert.Equal(latest, response.GetArray("Topics")![0].GetArray("Partitions")![0].GetInt64("Offset"));
    }
}
