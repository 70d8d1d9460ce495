namespace Quill.Tools.Tests;

/// <summary>Bad usage is refused before anything is sent, with exit code 2 and a message naming the problem.</summary>
public sealed class UsageTests
{
    [Theory]
    [InlineData("give exactly one of --create", "topics", "--bootstrap-server", "127.0.0.1:1")]
    [InlineData("give exactly one of --create", "topics", "--bootstrap-server", "127.0.0.1:1", "--list", "--describe")]
    [InlineData("--topic is required", "topics", "--bootstrap-server", "127.0.0.1:1", "--create")]
    [InlineData("give --describe or --alter", "configs", "--bootstrap-server", "127.0.0.1:1", "--entity-type", "topics", "--entity-name", "t")]
    [InlineData("--group (or --all-groups) is required", "groups", "--bootstrap-server", "127.0.0.1:1", "--describe")]
    [InlineData("--offset needs --partition", "consume", "--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--offset", "3")]
    [InlineData("--producer-property expects key=value", "produce", "--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--producer-property", "acks")]
    [InlineData("--election-type is required", "leader-election", "--bootstrap-server", "127.0.0.1:1", "--all-topic-partitions")]
    [InlineData("neither PREFERRED nor UNCLEAN", "leader-election", "--bootstrap-server", "127.0.0.1:1", "--election-type", "fast", "--all-topic-partitions")]
    [InlineData("give either --all-topic-partitions or --topic", "leader-election", "--bootstrap-server", "127.0.0.1:1", "--election-type", "PREFERRED")]
    public async Task Bad_usage_exits_2_with_a_message(string message, params string[] args)
    {
        var result = await QuillTool.RunAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.StdErr);
    }

    [Fact]
    public async Task A_missing_required_option_is_a_parse_error()
    {
        var result = await QuillTool.RunAsync("perf", "produce", "--topic", "t", "--record-size", "100");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--num-records", result.StdErr);
    }
}
