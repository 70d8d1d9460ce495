using Quill.Testing;

namespace Quill.Cli.Tests;

/// <summary>What the `quill zk` tests share: the Keeper, a root node of their own, and checks that show the run.</summary>
[Collection(KeeperCollection.Name)]
public abstract class ZkTestBase(KeeperFixture fixture)
{
    protected string Server => fixture.Server;

    /// <summary>A fresh path for this test's nodes (not created).</summary>
    protected string Root { get; } = "/cli-" + Guid.NewGuid().ToString("N")[..8];

    protected Task<ZkCliResult> Zk(params string[] args) => QuillZk.RunAsync(Server, args);

    /// <summary>Runs a command that must succeed.</summary>
    protected async Task<ZkCliResult> Ok(params string[] args)
    {
        var result = await Zk(args);
        Expect(result.ExitCode == 0, result);
        return result;
    }

    protected void Expect(bool condition, object run) =>
        Assert.True(condition, $"{run}\n--- keeper ---\n{fixture.Keeper.Diagnostics()}");

    protected static void ExpectLines(IEnumerable<string> expected, IReadOnlyList<string> actual, object run) =>
        Assert.True(expected.SequenceEqual(actual), $"expected:\n{string.Join('\n', expected)}\nactual:\n{string.Join('\n', actual)}\n{run}");
}
