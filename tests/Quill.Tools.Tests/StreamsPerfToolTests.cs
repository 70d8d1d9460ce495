using System.Globalization;
using System.Text.RegularExpressions;

namespace Quill.Tools.Tests;

/// <summary>`quill perf streams` against a real `quill start` broker, briefly: a case runs, its results check out, it reports.</summary>
[Collection(QuillBrokerCollection.Name)]
public sealed class StreamsPerfToolTests(QuillBroker broker)
{
    [Fact]
    public async Task Perf_streams_windowed_count_reports_a_line_rate_and_latency_probes()
    {
        // The run itself fails (exit 1, "FAILED") unless every (word, window) result of the input arrives and the
        // results add up to the input's words; the probes are counted from their windows' results.
        var result = await QuillTool.RunAsync(["perf", "streams", "--bootstrap-server", broker.BootstrapServers, "--cases", "quill-window",
            "--lines", "5000", "--rounds", "1", "--latency-rate", "200", "--latency-seconds", "1", "--stall-timeout", "60"], null,
            TimeSpan.FromMinutes(3));
        Assert.True(result.Succeeded, result.ToString() + broker.Output);
        var round = result.Lines().Select(l => Regex.Match(l,
                @"^round 1 quill-window\s+(\d+) lines/s\s+cpu\s+[\d.]+ us/line\s+latency p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms\s+\((\d+) probes\)$"))
            .Single(m => m.Success);
        Assert.True(long.Parse(round.Groups[1].Value, CultureInfo.InvariantCulture) > 0, result.ToString());
        Assert.Equal("200", round.Groups[4].Value);
        Assert.True(double.Parse(round.Groups[2].Value, CultureInfo.InvariantCulture) > 0, result.ToString());
        Assert.Contains(result.Lines(), l => l.StartsWith("| quill-window | ", StringComparison.Ordinal));
    }
}
