using System.Net;
using System.Net.Sockets;
using System.Text;
using Quill.Keeper.Protocol;
using Quill.Testing;

namespace Quill.Keeper.Tests.Server;

/// <summary>Four-letter words (with the whitelist) and the Prometheus metrics endpoint.</summary>
public sealed class OperationsTests
{
    private static async Task<string> FourLetterWordAsync(int port, string word)
    {
        using var tcp = new TcpClient("127.0.0.1", port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(word));
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task OnlyWhitelistedWordsRun()
    {
        await using var keeper = await InProcessKeeper.StartAsync(o => o.FourLetterWordWhitelist = new(StringComparer.Ordinal) { "srvr" });
        Assert.StartsWith("Zookeeper version: ", await FourLetterWordAsync(keeper.Port, "srvr"));
        Assert.Equal("ruok is not executed because it is not in the whitelist.\n", await FourLetterWordAsync(keeper.Port, "ruok"));
    }

    [Fact]
    public async Task WordsReportTheServersState()
    {
        await using var keeper = await InProcessKeeper.StartAsync();
        var (c, session) = await RawZkClient.ConnectAsync(keeper.Port);
        using (c)
        {
            await c.CallAsync(OpCode.Create, new CreateRequest("/e", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.Ephemeral));
            await c.CallAsync(OpCode.Exists, new PathWatchRequest("/e", true));
            Assert.Equal("imok", await FourLetterWordAsync(keeper.Port, "ruok"));
            var mntr = await FourLetterWordAsync(keeper.Port, "mntr");
            Assert.Contains("zk_server_state\tstandalone\n", mntr);
            Assert.Contains("zk_ephemerals_count\t1\n", mntr);
            Assert.Contains("zk_watch_count\t1\n", mntr);
            Assert.Contains("zk_znode_count\t5\n", mntr);
            Assert.Contains("Mode: standalone", await FourLetterWordAsync(keeper.Port, "stat"));
            Assert.Contains($"0x{session.SessionId:x}:\n\t/e\n", await FourLetterWordAsync(keeper.Port, "dump"));
            Assert.Contains("1 connections watching 1 paths", await FourLetterWordAsync(keeper.Port, "wchs"));
            Assert.Contains($"clientPort={keeper.Port}", await FourLetterWordAsync(keeper.Port, "conf"));
            Assert.Contains("zookeeper.version=", await FourLetterWordAsync(keeper.Port, "envi"));
            Assert.Contains($"sid=0x{session.SessionId:x}", await FourLetterWordAsync(keeper.Port, "cons"));
        }
    }

    [Fact]
    public async Task PrometheusEndpointServesGaugesAndTheLatencyHistogram()
    {
        int port = FreePort.Get();
        await using var keeper = await InProcessKeeper.StartAsync(o => o.MetricsPort = port);
        var (c, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (c)
        {
            for (int i = 0; i < 3; i++) await c.CallAsync(OpCode.Create, new CreateRequest($"/m{i}", [], [.. Acl.OpenAclUnsafe], 0));
        }
        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        // OpenTelemetry's exporter writes an empty label set as "{}"; Prometheus reads it as no labels.
        Assert.Matches(@"(?m)^# TYPE znode_count gauge$", text);
        Assert.Matches(@"(?m)^znode_count(\{\})? 7$", text);
        Assert.Matches(@"(?m)^global_sessions(\{\})? ", text);
        Assert.Matches(@"(?m)^fsync_count(\{\})? ", text);
        Assert.Contains("request_latency_ms_bucket{le=\"+Inf\"}", text);
        Assert.Matches(@"(?m)^request_latency_ms_count(\{\})? [1-9]", text);
    }

    [Fact]
    public async Task EveryNumberOfMntrIsExportedUnderItsZooKeeperName()
    {
        int port = FreePort.Get();
        await using var keeper = await InProcessKeeper.StartAsync(o =>
        {
            o.MetricsPort = port;
            o.FourLetterWordWhitelist = new(StringComparer.Ordinal) { "mntr" };
        });
        var mntr = await FourLetterWordAsync(keeper.Port, "mntr");
        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        foreach (var line in mntr.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('\t');
            if (!double.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out _)) continue;
            Assert.Matches($@"(?m)^{parts[0]["zk_".Length..]}(\{{\}})? ", text);
        }
    }

    [Fact]
    public async Task TheMetricsPortAnswersHealthAndUnknownPathsAndKeepsServing()
    {
        int port = FreePort.Get();
        await using var keeper = await InProcessKeeper.StartAsync(o => o.MetricsPort = port);
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/health")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{port}/nothing-here")).StatusCode);

        // A request that is not HTTP at all is answered (400) and does not take the port down.
        using (var tcp = new TcpClient("127.0.0.1", port))
        {
            var stream = tcp.GetStream();
            await stream.WriteAsync("ruok\r\n\r\n"u8.ToArray());
            using var reader = new StreamReader(stream);
            Assert.StartsWith("HTTP/1.1 400", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        }
        Assert.Matches(@"(?m)^znode_count", await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
    }

    [Fact]
    public async Task a_scrape_while_keeper_stops_is_answered_and_never_fails_with_500()
    {
        int port = FreePort.Get();
        await using var keeper = await InProcessKeeper.StartAsync(o => o.MetricsPort = port);
        using var http = new HttpClient();
        Assert.Matches(@"(?m)^znode_count(\{\})? 4$", await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));

        // The first step of stopping: the request processor takes no more work (the metrics port is still up then).
        keeper.Server.Processor!.Complete();
        var scrape = await http.GetAsync($"http://127.0.0.1:{port}/metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Matches(@"(?m)^znode_count(\{\})? 4$", await scrape.Content.ReadAsStringAsync());
    }
}
