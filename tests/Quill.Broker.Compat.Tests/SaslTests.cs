using System.Collections.Concurrent;
using Confluent.Kafka;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// SaslHandshake and SaslAuthenticate on the broker's PLAINTEXT listener: answered with ILLEGAL_SASL_STATE, as Kafka
/// answers them there, instead of a closed connection. Raw requests, since no installed client sends them unless it
/// is configured for SASL; and librdkafka configured for SASL/PLAIN, which must report a failed handshake.
/// </summary>
public sealed class SaslTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly BrokerProcess _broker = fixture.Broker;

    [Fact]
    public async Task ApiVersions_advertises_the_sasl_apis_as_kafka_does_on_every_listener()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var response = await connection.RequestAsync(KafkaApis.ApiVersions, 3, KafkaApis.ApiVersions.Request.New()
            .SetString("ClientSoftwareName", "raw").SetString("ClientSoftwareVersion", "1"));
        var advertised = response.GetArray("ApiKeys")!.ToDictionary(k => (ApiKey)k.GetInt16("ApiKey"), k => (k.GetInt16("MinVersion"), k.GetInt16("MaxVersion")));
        Assert.Equal((0, 1), advertised[ApiKey.SaslHandshake]);
        Assert.Equal((0, 2), advertised[ApiKey.SaslAuthenticate]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task SaslHandshake_is_answered_ILLEGAL_SASL_STATE_with_no_mechanisms_and_the_connection_stays(short version)
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var response = await connection.RequestAsync(KafkaApis.SaslHandshake, version,
            KafkaApis.SaslHandshake.Request.New().SetString("Mechanism", "PLAIN"));
        Assert.Equal((short)KafkaError.IllegalSaslState, response.GetInt16("ErrorCode"));
        Assert.Empty(response.GetStringArray("Mechanisms")!);
        await AssertStillAnswersAsync(connection);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task SaslAuthenticate_is_answered_ILLEGAL_SASL_STATE_and_the_connection_stays(short version)
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var response = await connection.RequestAsync(KafkaApis.SaslAuthenticate, version,
            KafkaApis.SaslAuthenticate.Request.New().SetBytes("AuthBytes", "\0user\0secret"u8.ToArray()));
        Assert.Equal((short)KafkaError.IllegalSaslState, response.GetInt16("ErrorCode"));
        Assert.Equal("SaslAuthenticate request received after successful authentication", response.GetString("ErrorMessage"));
        Assert.Equal(0, response.GetBytes("AuthBytes")!.Value.Length);
        if (version >= 1) Assert.Equal(0L, response.GetInt64("SessionLifetimeMs"));
        await AssertStillAnswersAsync(connection);
    }

    [Fact]
    public async Task Librdkafka_configured_for_sasl_plain_reports_a_failed_handshake_as_an_authentication_error()
    {
        var errors = new ConcurrentQueue<Error>();
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = _broker.BootstrapServers,
            SecurityProtocol = SecurityProtocol.SaslPlaintext,
            SaslMechanism = SaslMechanism.Plain,
            SaslUsername = "user",
            SaslPassword = "secret",
            MessageTimeoutMs = 5000,
        }).SetErrorHandler((_, e) => errors.Enqueue(e)).Build();
        var sent = producer.ProduceAsync("sasl-" + Guid.NewGuid().ToString("N")[..8], new Message<string, string> { Key = "k", Value = "v" });

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!errors.Any(e => e.Code == ErrorCode.Local_Authentication))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no authentication error; errors: {string.Join(" | ", errors.Select(e => $"{e.Code}: {e.Reason}"))}");
            await Task.Delay(100);
        }
        var failure = errors.First(e => e.Code == ErrorCode.Local_Authentication);
        Assert.Contains("SASL PLAIN mechanism handshake failed", failure.Reason);
        Assert.Contains("Broker: Request not valid in current SASL state", failure.Reason); // librdkafka's text for ILLEGAL_SASL_STATE
        // The broker never dropped the connection on it: librdkafka saw no transport failure.
        Assert.DoesNotContain(errors, e => e.Code == ErrorCode.Local_Transport);

        var produce = await Assert.ThrowsAsync<ProduceException<string, string>>(() => sent);
        Assert.Equal(ErrorCode.Local_MsgTimedOut, produce.Error.Code);
    }

    private static async Task AssertStillAnswersAsync(RawKafkaConnection connection)
    {
        var versions = await connection.RequestAsync(KafkaApis.ApiVersions, 0, KafkaApis.ApiVersions.Request.New());
        Assert.Equal(0, versions.GetInt16("ErrorCode"));
    }
}
