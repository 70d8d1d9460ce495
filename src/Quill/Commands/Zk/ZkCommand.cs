using System.CommandLine;
using System.CommandLine.Parsing;

namespace Quill.Commands.Zk;

/// <summary>
/// `quill zk -server host:port[/chroot] [-timeout ms] [-r] [command args...]`: a zkCli.sh-compatible shell. With a
/// command it runs it once and exits with zkCli's exit code; without one it reads commands from stdin.
/// </summary>
public static class ZkCommand
{
    public static Command Create()
    {
        // zkCli's options are single-dash words (-server, -timeout) and its commands have their own flags, so
        // System.CommandLine only hands over the words after `zk`; ZkInvocation and the commands parse them.
        var zk = new Command("zk", "A ZooKeeper shell compatible with zkCli.sh: quill zk -server host:port [command args...]")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        var words = new Argument<string[]>("args") { Arity = ArgumentArity.ZeroOrMore, Description = "zkCli options, then a command and its arguments" };
        zk.Arguments.Add(words);
        // Shadows the root's recursive help option so that "-h" reaches zk (as in `ls -h`, or `quill zk -h`).
        zk.Options.Add(new Option<bool>("--help", "-h", "-?") { Hidden = true });
        zk.SetAction((parse, ct) => RunAsync(WordsAfterZk(parse), ct));
        return zk;
    }

    private static async Task<int> RunAsync(IReadOnlyList<string> words, CancellationToken ct)
    {
        var invocation = ZkInvocation.Parse(words);
        if (invocation.Error is { } error)
        {
            Console.Error.WriteLine($"quill zk: {error}");
            Console.Error.WriteLine(ZkInvocation.Synopsis);
            return ExitCodes.BadConfig;
        }
        if (invocation.ShowHelp)
        {
            Console.WriteLine(ZkInvocation.Synopsis);
            ZkShell.PrintUsage(Console.Out);
            return ExitCodes.Ok;
        }
        await using var shell = new ZkShell(invocation, Console.In, Console.Out, Console.Error);
        return await shell.RunAsync(ct);
    }

    /// <summary>Every token after `zk`, in order and as typed (including "-h" and "--", which the parser classifies).</summary>
    private static List<string> WordsAfterZk(ParseResult parse)
    {
        var tokens = parse.Tokens;
        int zk = 0;
        while (zk < tokens.Count && !(tokens[zk].Type == TokenType.Command && tokens[zk].Value == "zk")) zk++;
        return tokens.Skip(zk + 1).Select(t => t.Value).ToList();
    }
}
