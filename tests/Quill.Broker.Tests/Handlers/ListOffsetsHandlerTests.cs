using Quill.Broker.Handlers;
using Quill.Broker.Log;
using Quill.Broker.Tests.Log;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// ListOffsets over a real partition log, through the wire in the version under test: the special timestamps of
/// v7 (-3), v8 (-4, earliest local: the log start, there being no tiered storage) and v9 (-5, latest tiered: -1,
/// as Kafka answers for a topic that is not tiered), each refused below the version that defines it.
/// </summary>
public sealed class ListOffsetsHandlerTests : IDisposable
{
    private const int LeaderEpoch = 3;
    private readonly HandlerHarness _harness = new();
    private readonly ListOffsetsHandler _handler;

    public ListOffsetsHandlerTests()
    {
        var partition = _harness.Replicas.Open("t", 0, Guid.NewGuid(), LeaderEpoch, LogConfig.Default);
        partition.Append(Batches.Make(CompressionType.None, 1000, "a", "b", "c")); // offsets 0-2, timestamps 1000-1002
        partition.Append(Batches.Make(CompressionType.None, 5000, "d", "e"));      // offsets 3-4, timestamps 5000-5001
        partition.Log.DeleteRecordsBefore(1);
        _handler = new ListOffsetsHandler(_harness.Services);
    }

    private async Task<StructValue> ListOffset(short version, long timestamp)
    {
        var response = await _harness.Send(_handler, version, body =>
            body.SetInt("ReplicaId", -1).AddElement("Topics").SetString("Name", "t")
                .AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt("CurrentLeaderEpoch", version >= 4 ? LeaderEpoch : -1).SetInt("Timestamp", timestamp));
        return response.GetArray("Topics")![0].GetArray("Partitions")![0];
    }

    private static KafkaError ErrorOf(StructValue partition) => (KafkaError)partition.GetInt16("ErrorCode");

    [Theory]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    public async Task earliest_local_is_the_log_start(short version)
    {
        var p = await ListOffset(version, ListOffsetsHandler.EarliestLocalTimestamp);
        Assert.Equal(KafkaError.None, ErrorOf(p));
        Assert.Equal(1, p.GetInt64("Offset"));
        Assert.Equal(-1, p.GetInt64("Timestamp"));
        Assert.Equal(LeaderEpoch, p.GetInt32("LeaderEpoch"));
    }

    [Theory]
    [InlineData(9)]
    [InlineData(10)]
    public async Task latest_tiered_is_none_without_tiered_storage(short version)
    {
        var p = await ListOffset(version, ListOffsetsHandler.LatestTieredTimestamp);
        Assert.Equal(KafkaError.None, ErrorOf(p));
        Assert.Equal(-1, p.GetInt64("Offset"));
        Assert.Equal(-1, p.GetInt64("Timestamp"));
        Assert.Equal(-1, p.GetInt32("LeaderEpoch"));
    }

    [Theory]
    [InlineData(6, PartitionLog.MaxTimestampQuery)]
    [InlineData(7, ListOffsetsHandler.EarliestLocalTimestamp)]
    [InlineData(8, ListOffsetsHandler.LatestTieredTimestamp)]
    public async Task a_special_timestamp_needs_the_version_that_defines_it(short version, long timestamp)
    {
        Assert.Equal(KafkaError.UnsupportedVersion, ErrorOf(await ListOffset(version, timestamp)));
    }

    [Fact]
    public async Task timestamps_below_the_defined_ones_are_invalid()
    {
        Assert.Equal(KafkaError.InvalidRequest, ErrorOf(await ListOffset(10, -6)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(10)]
    public async Task earliest_latest_and_by_time_answer_in_every_version(short version)
    {
        Assert.Equal(1, (await ListOffset(version, PartitionLog.EarliestTimestamp)).GetInt64("Offset"));
        Assert.Equal(5, (await ListOffset(version, PartitionLog.LatestTimestamp)).GetInt64("Offset"));
        var byTime = await ListOffset(version, 4000);
        Assert.Equal(3, byTime.GetInt64("Offset"));
        Assert.Equal(5000, byTime.GetInt64("Timestamp"));
    }

    [Fact]
    public async Task max_timestamp_from_v7_answers_the_largest_timestamp()
    {
        var p = await ListOffset(7, PartitionLog.MaxTimestampQuery);
        Assert.Equal(KafkaError.None, ErrorOf(p));
        Assert.Equal(5001, p.GetInt64("Timestamp"));
    }

    public void Dispose() => _harness.Dispose();
}
