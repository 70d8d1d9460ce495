using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Tests;

public class HeaderTests
{
    [Theory]
    [InlineData(ApiKey.Produce, 8, 1, 0)]
    [InlineData(ApiKey.Produce, 9, 2, 1)]
    [InlineData(ApiKey.Fetch, 11, 1, 0)]
    [InlineData(ApiKey.Fetch, 12, 2, 1)]
    [InlineData(ApiKey.Metadata, 8, 1, 0)]
    [InlineData(ApiKey.Metadata, 9, 2, 1)]
    [InlineData(ApiKey.ApiVersions, 2, 1, 0)]
    [InlineData(ApiKey.ApiVersions, 3, 2, 0)] // ApiVersions responses always use header v0
    [InlineData(ApiKey.ApiVersions, 4, 2, 0)]
    [InlineData(ApiKey.DescribeCluster, 0, 2, 1)]
    [InlineData(ApiKey.OffsetCommit, 7, 1, 0)]
    [InlineData(ApiKey.OffsetCommit, 8, 2, 1)]
    [InlineData(ApiKey.IncrementalAlterConfigs, 1, 2, 1)]
    public void HeaderVersionsFollowFlexibility(ApiKey key, short version, short requestHeader, short responseHeader)
    {
        var api = KafkaApis.Get(key);
        Assert.Equal(requestHeader, api.RequestHeaderVersion(version));
        Assert.Equal(responseHeader, api.ResponseHeaderVersion(version));
    }

    [Fact]
    public void A_newer_ApiVersions_request_is_read_with_the_flexible_header()
    {
        // A client newer than us asks with ApiVersions v9: the header must still parse so we can answer.
        byte[] frame = [0x00, 0x12, 0x00, 0x09, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01, (byte)'c', 0x00, 0x00];
        var reader = new KafkaReader(frame);
        var header = RequestHeader.Read(ref reader);
        Assert.Equal(9, header.ApiVersion);
        Assert.Equal("c", header.ClientId);
        Assert.Equal(12, reader.Position);
        var error = Assert.Throws<KafkaProtocolException>(() => KafkaFrames.DecodeRequest(frame));
        Assert.Contains("not supported", error.Message);
        Assert.True(RequestHeader.TryPeek(frame, out var key, out var version, out var correlationId));
        Assert.Equal((18, 9, 5), (key, version, correlationId));
    }

    [Fact]
    public void Response_header_v1_has_a_tag_section()
    {
        using var writer = new KafkaWriter();
        KafkaFrames.WriteResponse(writer, KafkaApis.Heartbeat, 4, 77, HeartbeatApi.Response.New());
        // size, correlation id, header tags, ThrottleTimeMs, ErrorCode, body tags
        Assert.Equal(new byte[] { 0, 0, 0, 12, 0, 0, 0, 77, 0, 0, 0, 0, 0, 0, 0, 0 }, writer.ToArray());
        var (correlationId, body) = KafkaFrames.DecodeResponse(writer.WrittenMemory[4..], KafkaApis.Heartbeat, 4);
        Assert.Equal(77, correlationId);
        Assert.Equal(0, body.GetInt16("ErrorCode"));
    }

    [Fact]
    public void An_unknown_api_key_is_a_protocol_error()
    {
        byte[] frame = [0x03, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff];
        var error = Assert.Throws<KafkaProtocolException>(() => KafkaFrames.DecodeRequest(frame));
        Assert.Contains("unknown api key 999", error.Message);
    }
}
