using Microsoft.Extensions.Logging.Abstractions;
using Quill.Broker.Handlers;
using Quill.Broker.Log;
using Quill.Broker.Metadata;
using Quill.Broker.Partitions;
using Quill.Broker.Tests.Log;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
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
    private readonly TempDir _dir = new();
    private readonly ReplicaManager _replicas;
    private readonly ListOffsetsHandler _handler;

    public ListOffsetsHandlerTests()
    {
        _replicas = new ReplicaManager([_dir.Path], LogConfig.Default, _ => LogConfig.Default, TimeProvider.System, NullLogger.Instance);
        var partition = _replicas.Open("t", 0, Guid.NewGuid(), LeaderEpoch, LogConfig.Default);
        partition.Append(Batches.Make(CompressionType.None, 1000, "a", "b", "c")); // offsets 0-2, timestamps 1000-1002
        partition.Append(Batches.Make(CompressionType.None, 5000, "d", "e"));      // offsets 3-4, timestamps 5000-5001
        partition.Log.DeleteRecordsBefore(1);
        var services = new BrokerServices
        {
            Options = new BrokerOptions(),
            Metadata = new MetadataCache(),
            Replicas = _replicas,
            Loggers = NullLoggerFactory.Instance,
            Time = TimeProvider.System,
            // Not used by ListOffsets.
            DynamicConfig = null!,
            Controller = null!,
            ProducerIds = null!,
            Zk = null!,
        };
        _handler = new ListOffsetsHandler(services);
    }

    private async Task<StructValue> ListOffset(short version, long timestamp)
    {
        var api = KafkaApis.ListOffsets;
        var body = api.Request.New().SetInt("ReplicaId", -1);
        body.AddElement("Topics").SetString("Name", "t")
            .AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt("CurrentLeaderEpoch", version >= 4 ? LeaderEpoch : -1).SetInt("Timestamp", timestamp);
        using var requestWriter = new KafkaWriter();
        KafkaFrames.WriteRequest(requestWriter, new RequestHeader((short)ApiKey.ListOffsets, version, 1, "test"), body);
        var request = KafkaFrames.DecodeRequest(requestWriter.ToArray().AsMemory(4));
        var response = await _handler.HandleAsync(new RequestContext(request, "127.0.0.1:50000", 1), CancellationToken.None);
        using var responseWriter = new KafkaWriter();
        KafkaFrames.WriteResponse(responseWriter, api, version, 1, response);
        var (_, decoded) = KafkaFrames.DecodeResponse(responseWriter.ToArray().AsMemory(4), api, version);
        return decoded.GetArray("Topics")![0].GetArray("Partitions")![0];
    }

    private static KafkaError ErrorOf(StructValue partition) => (KafkaError)partition.GetInt16("ErrorCode");

    [Theory]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    public async Task EarliestLocalIsTheLogStart(short version)
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
    public async Task LatestTieredIsNoneWithoutTieredStorage(short version)
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
    public async Task ASpecialTimestampNeedsTheVersionThatDefinesIt(short version, long timestamp)
    {
        Assert.Equal(KafkaError.UnsupportedVersion, ErrorOf(await ListOffset(version, timestamp)));
    }

    [Fact]
    public async Task TimestampsBelowTheDefinedOnesAreInvalid()
    {
        Assert.Equal(KafkaError.InvalidRequest, ErrorOf(await ListOffset(10, -6)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(10)]
    public async Task EarliestLatestAndByTimeStillAnswerInEveryVersion(short version)
    {
        Assert.Equal(1, (await ListOffset(version, PartitionLog.EarliestTimestamp)).GetInt64("Offset"));
        Assert.Equal(5, (await ListOffset(version, PartitionLog.LatestTimestamp)).GetInt64("Offset"));
        var byTime = await ListOffset(version, 4000);
        Assert.Equal(3, byTime.GetInt64("Offset"));
        Assert.Equal(5000, byTime.GetInt64("Timestamp"));
    }

    [Fact]
    public async Task MaxTimestampFromV7()
    {
        var p = await ListOffset(7, PartitionLog.MaxTimestampQuery);
        Assert.Equal(KafkaError.None, ErrorOf(p));
        Assert.Equal(5001, p.GetInt64("Timestamp"));
    }

    public void Dispose()
    {
        _replicas.Dispose();
        _dir.Dispose();
    }
}
