using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Protocol.Tests;

public class RoundTripTests
{
    public static TheoryData<ApiKey, short> EveryApiVersion()
    {
        var data = new TheoryData<ApiKey, short>();
        foreach (var api in KafkaApis.All)
            for (short v = api.MinVersion; v <= api.MaxVersion; v++) data.Add(api.Key, v);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryApiVersion))]
    public void Requests_and_responses_survive_encode_and_decode(ApiKey key, short version)
    {
        var api = KafkaApis.Get(key);
        for (int seed = 0; seed < 8; seed++)
        {
            AssertRoundTrip(api.Request, version, new RandomValues(seed * 31 + version).Fill(api.Request, version));
            AssertRoundTrip(api.Response, version, new RandomValues(seed * 17 + version).Fill(api.Response, version));
        }
    }

    [Theory]
    [MemberData(nameof(EveryApiVersion))]
    public void All_default_bodies_round_trip(ApiKey key, short version)
    {
        var api = KafkaApis.Get(key);
        AssertRoundTrip(api.Request, version, api.Request.New());
        AssertRoundTrip(api.Response, version, api.Response.New());
    }

    private static void AssertRoundTrip(MessageSchema schema, short version, StructValue original)
    {
        using var writer = new KafkaWriter();
        MessageCodec.Encode(schema, version, original, writer);
        var bytes = writer.ToArray();
        var decoded = MessageCodec.Decode(schema, version, bytes);
        Assert.True(original.ContentEquals(decoded), $"{schema.Name} v{version}\nwrote {original}\nread  {decoded}");

        using var again = new KafkaWriter();
        MessageCodec.Encode(schema, version, decoded, again);
        Assert.Equal(bytes, again.ToArray());
    }

    [Fact]
    public void Described_versions_cover_what_the_clients_use()
    {
        Assert.True(KafkaApis.Metadata.MaxVersion >= 13);
        Assert.True(KafkaApis.Fetch.MaxVersion >= 16);
        Assert.True(KafkaApis.Produce.MaxVersion >= 10);
        Assert.Equal(0, KafkaApis.Produce.MinVersion);
        Assert.True(KafkaApis.OffsetCommit.MaxVersion >= 9);
        Assert.True(KafkaApis.OffsetFetch.MaxVersion >= 9);
        Assert.True(KafkaApis.ApiVersions.MaxVersion >= 4);
        Assert.Equal(44, KafkaApis.All.Count);
        Assert.All(KafkaApis.All, api => Assert.Equal(0, api.MinVersion));
    }

    [Fact]
    public void Fields_absent_from_a_version_decode_as_their_defaults()
    {
        var request = MetadataApi.Request.New();
        request.AddElement("Topics").SetString("Name", "orders");
        using var writer = new KafkaWriter();
        MessageCodec.Encode(MetadataApi.Request, 3, request, writer);
        var decoded = MessageCodec.Decode(MetadataApi.Request, 3, writer.ToArray());
        Assert.True(decoded.GetBool("AllowAutoTopicCreation")); // v4+ field, default true
        Assert.Equal("orders", decoded.GetArray("Topics")![0].GetString("Name"));
    }

    [Fact]
    public void Tagged_fields_at_their_default_stay_off_the_wire()
    {
        var response = FetchApi.Response.New();
        var partition = response.AddElement("Responses").AddElement("Partitions");
        using var plain = new KafkaWriter();
        MessageCodec.Encode(FetchApi.Response, 12, response, plain);

        partition.GetStruct("CurrentLeader").SetInt("LeaderId", 3).SetInt("LeaderEpoch", 7);
        using var tagged = new KafkaWriter();
        MessageCodec.Encode(FetchApi.Response, 12, response, tagged);
        // tag 1, size 9, two int32s and the struct's own (empty) tag section: 11 more bytes
        // (the partition's tag count byte exists either way).
        Assert.Equal(plain.Length + 11, tagged.Length);
        var decoded = MessageCodec.Decode(FetchApi.Response, 12, tagged.ToArray());
        var leader = decoded.GetArray("Responses")![0].GetArray("Partitions")![0].GetStruct("CurrentLeader");
        Assert.Equal(3, leader.GetInt32("LeaderId"));
        Assert.Equal(7, leader.GetInt32("LeaderEpoch"));
    }

    [Fact]
    public void Unknown_tagged_fields_are_preserved_in_tag_order()
    {
        var request = ApiVersionsApi.Request.New().SetString("ClientSoftwareName", "x");
        request.UnknownTaggedFields = [new RawTaggedField(7, new byte[] { 1, 2, 3 })];
        using var writer = new KafkaWriter();
        MessageCodec.Encode(ApiVersionsApi.Request, 3, request, writer);
        Assert.Equal(new byte[] { 2, (byte)'x', 1, 1, 7, 3, 1, 2, 3 }, writer.ToArray());
        var decoded = MessageCodec.Decode(ApiVersionsApi.Request, 3, writer.ToArray());
        Assert.Equal(7, Assert.Single(decoded.UnknownTaggedFields!).Tag);
    }
}
