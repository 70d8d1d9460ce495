using System.Runtime.InteropServices;
using System.Text;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Messages.Tests;

/// <summary>The frames of the protocol library's known-bytes tests (built by hand from the spec), through the generated classes.</summary>
public class KnownBytesTests
{
    private static byte[] Concat(params object[] parts)
    {
        var bytes = new List<byte>();
        foreach (var part in parts)
        {
            switch (part)
            {
                case int i: bytes.Add((byte)i); break;
                case string s: bytes.AddRange(Encoding.UTF8.GetBytes(s)); break;
                case byte[] a: bytes.AddRange(a); break;
                default: throw new ArgumentException(part.GetType().Name);
            }
        }
        return [.. bytes];
    }

    // ApiVersions v3 as librdkafka opens every connection: request header v2 (a classic int16 client id, then an
    // empty tag section), compact strings in the body, an empty tag section.
    private static readonly byte[] ApiVersionsV3Frame = Concat(
        0x00, 0x12, 0x00, 0x03,
        0x00, 0x00, 0x00, 0x01,
        0x00, 0x07, "rdkafka",
        0x00,
        0x0b, "librdkafka",
        0x06, "2.3.0",
        0x00);

    [Fact]
    public void ApiVersionsV3RequestReadsFromClientBytes()
    {
        var request = MessageFrames.ReadRequest(ApiVersionsV3Frame);
        Assert.Equal(3, request.Version);
        Assert.Equal(1, request.Header.CorrelationId);
        Assert.Equal("rdkafka", request.Header.ClientId);
        var body = Assert.IsType<ApiVersionsRequestData>(request.Body);
        Assert.Equal("librdkafka", body.ClientSoftwareName);
        Assert.Equal("2.3.0", body.ClientSoftwareVersion);
    }

    [Fact]
    public void ApiVersionsV3RequestWritesClientBytes()
    {
        var body = new ApiVersionsRequestData { ClientSoftwareName = "librdkafka", ClientSoftwareVersion = "2.3.0" };
        using var writer = new KafkaWriter();
        MessageFrames.WriteRequest(writer, new RequestHeader(18, 3, 1, "rdkafka"), body);
        Assert.Equal(Concat(0x00, 0x00, 0x00, ApiVersionsV3Frame.Length, ApiVersionsV3Frame), writer.ToArray());
    }

    [Fact]
    public void ApiVersionsResponseUsesHeaderV0EvenWhenFlexible()
    {
        var body = new ApiVersionsResponseData { ApiKeys = { new() { ApiKey = 0, MinVersion = 0, MaxVersion = 12 } } };
        using var writer = new KafkaWriter();
        MessageFrames.WriteResponse(writer, 3, correlationId: 1, body);
        var expected = Concat(
            0x00, 0x00, 0x00, 0x00,     // size, set below
            0x00, 0x00, 0x00, 0x01,     // correlation id; header v0: no tag section
            0x00, 0x00,                 // ErrorCode
            0x02,                       // ApiKeys: compact array of 1
            0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00,
            0x00, 0x00, 0x00, 0x00,     // ThrottleTimeMs
            0x00);                      // tagged fields: none (features at their defaults)
        expected[3] = (byte)(expected.Length - 4);
        Assert.Equal(expected, writer.ToArray());

        var (correlationId, read) = MessageFrames.ReadResponse<ApiVersionsResponseData>(writer.WrittenMemory[4..], ApiKey.ApiVersions, 3);
        Assert.Equal(1, correlationId);
        Assert.Equal(12, read.ApiKeys[0].MaxVersion);
        Assert.Equal(-1, read.FinalizedFeaturesEpoch); // tagged, absent: its default
    }

    [Fact]
    public void MetadataV12RequestReadsFromClientBytesAndWritesThemBack()
    {
        var topicId = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        var frame = Concat(
            0x00, 0x03, 0x00, 0x0c,
            0x00, 0x00, 0x00, 0x2a,
            0x00, 0x03, "cli",
            0x00,
            0x03,                                       // Topics: compact array of 2
            new byte[16], 0x07, "orders", 0x00,         //   zero id, by name
            topicId.ToByteArray(bigEndian: true), 0x00, 0x00, // by id, Name null
            0x01,                                       // AllowAutoTopicCreation
            0x00,                                       // IncludeTopicAuthorizedOperations
            0x00);
        var request = MessageFrames.ReadRequest(frame);
        var body = Assert.IsType<MetadataRequestData>(request.Body);
        Assert.Equal(42, request.Header.CorrelationId);
        Assert.NotNull(body.Topics);
        Assert.Equal("orders", body.Topics[0].Name);
        Assert.Equal(Guid.Empty, body.Topics[0].TopicId);
        Assert.Null(body.Topics[1].Name);
        Assert.Equal(topicId, body.Topics[1].TopicId);
        Assert.True(body.AllowAutoTopicCreation);
        Assert.False(body.IncludeTopicAuthorizedOperations);

        using var writer = new KafkaWriter();
        MessageFrames.WriteRequest(writer, request.Header, body);
        Assert.Equal(frame, writer.WrittenSpan[4..].ToArray());
    }

    [Fact]
    public void MetadataV1NullTopicsMeansAllTopics()
    {
        var frame = Concat(0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
        var body = Assert.IsType<MetadataRequestData>(MessageFrames.ReadRequest(frame).Body);
        Assert.Null(body.Topics);
        Assert.True(body.AllowAutoTopicCreation); // v4+ field, default true
    }

    [Fact]
    public void ProduceV3RequestKeepsRecordsAsASliceOfTheFrame()
    {
        byte[] records = [1, 2, 3, 4, 5];
        var frame = Concat(
            0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, "p",
            0xff, 0xff,                     // TransactionalId null
            0xff, 0xff,                     // Acks -1
            0x00, 0x00, 0x75, 0x30,         // TimeoutMs 30000
            0x00, 0x00, 0x00, 0x01,
            0x00, 0x01, "t",
            0x00, 0x00, 0x00, 0x01,
            0x00, 0x00, 0x00, 0x02,         // Index 2
            0x00, 0x00, 0x00, 0x05, records);
        var body = Assert.IsType<ProduceRequestData>(MessageFrames.ReadRequest(frame).Body);
        Assert.Null(body.TransactionalId);
        Assert.Equal(-1, body.Acks);
        Assert.Equal(30000, body.TimeoutMs);
        var partition = body.TopicData[0].PartitionData[0];
        Assert.Equal(2, partition.Index);
        var slice = partition.Records!.Value;
        Assert.Equal(records, slice.ToArray());
        Assert.True(MemoryMarshal.TryGetArray(slice, out var segment));
        Assert.Same(frame, segment.Array); // no copy
    }
}
