using Quill.Testing;

namespace Quill.Keeper.Tests.Server;

public sealed class LogTextTests
{
    [Theory]
    [InlineData("line\nforged", @"line\x0aforged")]
    [InlineData("over\rwrite", @"over\x0dwrite")]
    [InlineData("tab\tnul\0bell\a", @"tab\x09nul\x00bell\x07")]
    [InlineData("\u001b[31mred", @"\x1b[31mred")]
    [InlineData("del\u007f", @"del\x7f")]
    [InlineData("next\u0085line", @"next\u0085line")]
    [InlineData("sep\u2028par\u2029", @"sep\u2028par\u2029")]
    [InlineData("bidi\u202eoverride", @"bidi\u202eoverride")]
    [InlineData(@"back\slash", @"back\\slash")]
    [InlineData(@"not an escape: \x0a", @"not an escape: \\x0a")]
    [InlineData("é 日本 \U0001F600", "é 日本 \U0001F600")]
    [InlineData("", "")]
    [InlineData(null, "null")]
    public void EscapesWhatCouldForgeOrHideALogLine(string? input, string expected) =>
        Assert.Equal(expected, LogText.Escape(input));

    [Fact]
    public void LoneSurrogatesAreEscaped()
    {
        // Not as InlineData: test discovery would turn them into U+FFFD.
        Assert.Equal(@"lone\ud800surrogate", LogText.Escape("lone\ud800surrogate"));
        Assert.Equal(@"\udc00lone low", LogText.Escape("\udc00lone low"));
        Assert.Equal(@"end\ud83d", LogText.Escape("end\ud83d"));
    }

    [Fact]
    public void PlainTextIsReturnedAsIs()
    {
        string path = "/brokers/ids/1";
        Assert.Same(path, LogText.Escape(path));
    }

    [Fact]
    public void LongValuesAreCutAndSaySo()
    {
        string escaped = LogText.Escape(new string('a', 100_000));
        Assert.Equal(new string('a', LogText.MaxLength) + "...(100000 chars)", escaped);
        // A pair cut in two leaves a lone half, which is escaped.
        string pairAtTheCut = new string('a', LogText.MaxLength - 1) + "\U0001F600";
        Assert.EndsWith(@"a\ud83d...(513 chars)", LogText.Escape(pairAtTheCut));
    }
}

/// <summary>A client-supplied string with control characters reaches the log of the real `quill` process escaped.</summary>
public sealed class LogEscapingTests(KeeperProcessFixture fixture) : IClassFixture<KeeperProcessFixture>
{
    [Fact]
    public async Task AnAuthSchemeWithLineBreaksSentByKazooIsLoggedEscaped()
    {
        // What a log line of Keeper's looks like, after a line break: if it came out raw, it would pass for one.
        string forged = "2026-01-01 00:00:00.000 crit: Keeper[0] forged";
        var run = await ToolRunner.RunKazooAsync("""
            import sys
            from kazoo.client import KazooClient
            from kazoo.exceptions import AuthFailedError
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15)
            try: zk.add_auth("x\r\n" + sys.argv[2], "data")
            except AuthFailedError: print("auth failed")
            zk.stop(); zk.close()
            """, fixture.Keeper.ConnectString, forged);
        Assert.True(run.Succeeded, run.ToString());
        Assert.Contains("auth failed", run.StdOut);

        string expected = @"scheme x\x0d\x0a" + forged;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!fixture.Keeper.Output.Contains(expected, StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        string output = fixture.Keeper.Output;
        Assert.True(output.Contains(expected, StringComparison.Ordinal), $"no line with {expected}\n{fixture.Keeper.Diagnostics()}");
        Assert.DoesNotContain('\r', output);
        Assert.DoesNotContain(output.Split('\n'), line => line.StartsWith(forged, StringComparison.Ordinal));
    }
}
