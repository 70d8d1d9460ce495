using Confluent.Kafka;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// Strings a client chooses (client id, group id, SASL mechanism) reach the broker's log escaped: a newline or a
/// terminal escape in them cannot start a line of its own.
/// </summary>
public sealed class LogLineTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly BrokerProcess _broker = fixture.Broker;

    [Fact]
    public async Task A_group_id_and_client_id_with_line_breaks_are_logged_escaped_on_one_line()
    {
        string topic = Clients.NewTopic("logline");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        string tag = Guid.NewGuid().ToString("N")[..8];
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = _broker.BootstrapServers,
            GroupId = $"group-{tag}\nFORGED-GROUP {tag}",
            ClientId = $"client-{tag}\r\nFORGED-CLIENT {tag}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        var deadline = DateTime.UtcNow + Patience;
        while (consumer.Assignment.Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the consumer never joined its group\n" + _broker.Diagnostics());
            consumer.Consume(TimeSpan.FromMilliseconds(100));
        }
        consumer.Close();

        // The rebalance lines name the group and the member (whose id starts with the client id).
        await WaitForLogAsync($@"group-{tag}\x0AFORGED-GROUP {tag}");
        await WaitForLogAsync($@"client-{tag}\x0D\x0AFORGED-CLIENT {tag}-");
        AssertNoForgedLine(tag);
    }

    [Fact]
    public async Task A_sasl_mechanism_and_client_id_with_control_characters_are_logged_escaped()
    {
        string tag = Guid.NewGuid().ToString("N")[..8];
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        connection.ClientId = $"raw-{tag}\nFORGED-CLIENT {tag}";
        await connection.RequestAsync(KafkaApis.SaslHandshake, 1,
            KafkaApis.SaslHandshake.Request.New().SetString("Mechanism", $"PLAIN\u001b[2K\rFORGED-MECHANISM {tag}\u2028x"));

        await WaitForLogAsync($@"raw-{tag}\x0AFORGED-CLIENT {tag}");
        await WaitForLogAsync($@"PLAIN\x1B[2K\x0DFORGED-MECHANISM {tag}\u2028x");
        AssertNoForgedLine(tag);
    }

    private async Task WaitForLogAsync(string expected)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!_broker.Output.Contains(expected, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the broker never logged {expected}\n{_broker.Diagnostics()}");
            await Task.Delay(100);
        }
    }

    private void AssertNoForgedLine(string tag)
    {
        var lines = _broker.Output.Split('\n');
        Assert.DoesNotContain(lines, l => l.TrimStart('\r').StartsWith("FORGED", StringComparison.Ordinal) && l.Contains(tag, StringComparison.Ordinal));
        Assert.DoesNotContain(_broker.Output, c => c is '\u001b' or '\u2028');
    }
}
