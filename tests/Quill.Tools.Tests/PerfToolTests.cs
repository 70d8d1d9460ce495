namespace Quill.Tools.Tests;

/// <summary>`quill perf produce|consume`: Kafka's result formats, against the in-process mock and a hosted one.</summary>
[Collection(MockBrokerCollection.Name)]
public sealed class PerfToolTests(MockBroker broker)
{
    private const string ProducerLine =
        @"^(\d+) records sent, \d+\.\d{6} records/sec \(\d+\.\d\d MB/sec\), \d+\.\d\d ms avg latency, \d+\.\d\d ms max latency, " +
        @"\d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$";

    [Fact]
    public async Task Perf_produce_against_its_own_mock_prints_Kafkas_final_line()
    {
        var result = await QuillTool.RunAsync("perf", "produce", "--mock", "--topic", "perf", "--num-records", "50000", "--record-size", "100",
            "--throughput", "-1", "--producer-props", "acks=1", "linger.ms=5");
        Assert.True(result.Succeeded, result.ToString());
        var match = System.Text.RegularExpressions.Regex.Match(result.Lines()[^1], ProducerLine);
        Assert.True(match.Success, result.ToString());
        Assert.Equal("50000", match.Groups[1].Value);
    }

    [Fact]
    public async Task Perf_produce_then_perf_consume_against_a_broker()
    {
        string topic = "perf-" + Guid.NewGuid().ToString("N")[..8];
        var produced = await QuillTool.RunAsync("perf", "produce", "--bootstrap-server", broker.BootstrapServers, "--topic", topic,
            "--num-records", "20000", "--record-size", "64", "--throughput", "20000", "--producer-props", "acks=1");
        Assert.True(produced.Succeeded, produced.ToString());
        Assert.Matches(ProducerLine, produced.Lines()[^1]);

        var consumed = await QuillTool.RunAsync("perf", "consume", "--bootstrap-server", broker.BootstrapServers, "--topic", topic, "--messages", "20000");
        Assert.True(consumed.Succeeded, consumed.ToString());
        var lines = consumed.Lines();
        Assert.Equal("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec",
            lines[^2]);
        var fields = lines[^1].Split(", ");
        Assert.Equal(10, fields.Length);
        Assert.Equal("20000", fields[4]);
        Assert.Equal((20000 * 64 / 1024.0 / 1024.0).ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture), fields[2]);
    }

    [Fact]
    public async Task Perf_consume_with_mock_reads_what_it_wrote()
    {
        var result = await QuillTool.RunAsync("perf", "consume", "--mock", "--topic", "perf", "--messages", "20000");
        Assert.True(result.Succeeded, result.ToString());
        Assert.Equal("20000", result.Lines()[^1].Split(", ")[4]);
    }

    [Fact]
    public async Task Perf_consume_that_runs_dry_fails_after_its_timeout()
    {
        string topic = "perf-dry-" + Guid.NewGuid().ToString("N")[..6];
        var produced = await QuillTool.RunAsync(["produce", "--bootstrap-server", broker.BootstrapServers, "--topic", topic], "a\nb\nc\n");
        Assert.True(produced.Succeeded, produced.ToString());
        var result = await QuillTool.RunAsync("perf", "consume", "--bootstrap-server", broker.BootstrapServers, "--topic", topic,
            "--messages", "10", "--timeout", "2000");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("only 3 of 10 messages", result.StdErr);
    }
}
