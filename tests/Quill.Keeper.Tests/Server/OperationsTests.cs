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
        Assert.Contains("\nznode_count 7\n", "\n" + text);
        Assert.Contains("\nglobal_sessions ", "\n" + text);
        Assert.Contains("\nfsync_count ", "\n" + text);
        Assert.Contains("request_latency_ms_bucket{le=\"+Inf\"}", text);
        Assert.Matches(@"request_latency_ms_count [1-9]", text);
    }
}
