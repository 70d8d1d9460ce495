using System.Text;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Tests;

/// <summary>Frames built by hand from the spec, byte by byte, as a client sends them.</summary>
public class KnownBytesTests
{
    private static byte[] Concat(params object[] parts)
    {
        var bytes = new List<byte>();
        foreach (var part in parts)
        {
            switch (part)
            {
                case byte b: bytes.Add(b); break;
                case int i: bytes.Add((byte)i); break;
                case string s: bytes.AddRange(Encoding.UTF8.GetBytes(s)); break;
                case byte[] a: bytes.AddRange(a); break;
                default: throw new ArgumentException(part.GetType().Name);
            }
        }
        return [.. bytes];
    }

    // ApiVersions v3 as librdkafka opens every connection: request header v2 (client id a classic int16
    // string, then an empty tag section), compact strings in the body, empty tag section.
    private static readonly byte[] ApiVersionsV3Frame = Concat(
        0x00, 0x12, 0x00, 0x03,             // api key 18, version 3
        0x00, 0x00, 0x00, 0x01,             // correlation id 1
        0x00, 0x07, "rdkafka",              // client id: int16 length, NOT compact
        0x00,                               // header tagged fields: none
        0x0b, "librdkafka",                 // ClientSoftwareName: compact (length + 1 = 11)
        0x06, "2.3.0",                      // ClientSoftwareVersion: compact (5 + 1)
        0x00);                              // body tagged fields: none

    [Fact]
    public void ApiVersions_v3_request_decodes_from_client_bytes()
    {
        var request = KafkaFrames.DecodeRequest(ApiVersionsV3Frame);
        Assert.Equal((short)ApiKey.ApiVersions, request.Header.ApiKey);
        Assert.Equal(3, request.Version);
        Assert.Equal(1, request.Header.CorrelationId);
        Assert.Equal("rdkafka", request.Header.ClientId);
        Assert.Equal("librdkafka", request.Body.GetString("ClientSoftwareName"));
        Assert.Equal("2.3.0", request.Body.GetString("ClientSoftwareVersion"));
    }

    [Fact]
    public void ApiVersions_v3_request_encodes_to_client_bytes()
    {
        var body = ApiVersionsApi.Request.New()
            .SetString("ClientSoftwareName", "librdkafka")
            .SetString("ClientSoftwareVersion", "2.3.0");
        using var writer = new KafkaWriter();
        KafkaFrames.WriteRequest(writer, new RequestHeader(18, 3, 1, "rdkafka"), body);
        var expected = Concat(0x00, 0x00, 0x00, ApiVersionsV3Frame.Length, ApiVersionsV3Frame);
        Assert.Equal(expected, writer.ToArray());
    }

    [Fact]
    public void ApiVersions_response_uses_header_v0_even_when_flexible()
    {
        var body = ApiVersionsApi.Response.New();
        body.AddElement("ApiKeys").SetInt("ApiKey", 0).SetInt("MinVersion", 0).SetInt("MaxVersion", 12);
        using var writer = new KafkaWriter();
        KafkaFrames.WriteResponse(writer, KafkaApis.ApiVersions, 3, correlationId: 1, body);
        var expected = Concat(
            0x00, 0x00, 0x00, 0x00,     // size, checked below
            0x00, 0x00, 0x00, 0x01,     // correlation id; header v0: no tag section
            0x00, 0x00,                 // ErrorCode
            0x02,                       // ApiKeys: compact array of 1
            0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, // key 0, min 0, max 12, element tags
            0x00, 0x00, 0x00, 0x00,     // ThrottleTimeMs
            0x00);                      // tagged fields: none (features at defaults)
        expected[3] = (byte)(expected.Length - 4);
        Assert.Equal(expected, writer.ToArray());
    }

    [Fact]
    public void Metadata_v12_request_decodes_from_client_bytes()
    {
        var topicId = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        var frame = Concat(
            0x00, 0x03, 0x00, 0x0c,                     // Metadata v12
            0x00, 0x00, 0x00, 0x2a,                     // correlation id 42
            0x00, 0x03, "cli",                          // client id
            0x00,                                       // header tags
            0x03,                                       // Topics: compact array of 2
            new byte[16],                               //   TopicId zero (lookup by name)
            0x07, "orders",                             //   Name
            0x00,                                       //   tags
            new byte[] { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff },
            0x00,                                       //   Name null (lookup by id)
            0x00,                                       //   tags
            0x01,                                       // AllowAutoTopicCreation
            0x00,                                       // IncludeTopicAuthorizedOperations
            0x00);                                      // tags
        var request = KafkaFrames.DecodeRequest(frame);
        Assert.Equal(42, request.Header.CorrelationId);
        var topics = request.Body.GetArray("Topics")!;
        Assert.Equal(2, topics.Count);
        Assert.Equal("orders", topics[0].GetString("Name"));
        Assert.Equal(Guid.Empty, topics[0].GetUuid("TopicId"));
        Assert.Null(topics[1].GetString("Name"));
        Assert.Equal(topicId, topics[1].GetUuid("TopicId"));
        Assert.True(request.Body.GetBool("AllowAutoTopicCreation"));
        Assert.False(request.Body.GetBool("IncludeTopicAuthorizedOperations"));

        using var writer = new KafkaWriter();
        KafkaFrames.WriteRequest(writer, request.Header, request.Body);
        Assert.Equal(frame, writer.WrittenSpan[4..].ToArray());
    }

    [Fact]
    public void Metadata_v1_null_topics_means_all_topics()
    {
        var frame = Concat(0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0xff, 0xff, // client id null
                           0xff, 0xff, 0xff, 0xff);                                // Topics: null
        var request = KafkaFrames.DecodeRequest(frame);
        Assert.Null(request.Header.ClientId);
        Assert.Null(request.Body.GetArray("Topics"));
    }

    [Fact]
    public void Produce_v3_request_with_records_keeps_a_raw_slice()
    {
        byte[] records = [1, 2, 3, 4, 5];
        var frame = Concat(
            0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, "p",
            0xff, 0xff,                     // TransactionalId null
            0xff, 0xff,                     // Acks -1
            0x00, 0x00, 0x75, 0x30,         // TimeoutMs 30000
            0x00, 0x00, 0x00, 0x01,         // one topic
            0x00, 0x01, "t",
            0x00, 0x00, 0x00, 0x01,         // one partition
            0x00, 0x00, 0x00, 0x02,         // Index 2
            0x00, 0x00, 0x00, 0x05, records);
        var request = KafkaFrames.DecodeRequest(frame);
        Assert.Null(request.Body.GetString("TransactionalId"));
        Assert.Equal(-1, request.Body.GetInt16("Acks"));
        var partition = request.Body.GetArray("TopicData")![0].GetArray("PartitionData")![0];
        Assert.Equal(2, partition.GetInt32("Index"));
        var slice = partition.GetBytes("Records")!.Value;
        Assert.Equal(records, slice.ToArray());
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(slice, out var segment));
        Assert.Same(frame, segment.Array); // a slice of the frame, not a copy
    }
}
