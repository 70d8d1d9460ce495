namespace Quill.Commands.Zk;

/// <summary>
/// One zkCli command that talks to the server (ls, get, create, ...). It parses its own words, prints through the
/// shell, and fails by throwing: <see cref="CliException"/> for its own errors, KeeperException for the server's
/// (the shell prints those as zkCli does).
/// </summary>
public abstract class ZkCliCommand(string name, string usage, string flags = "", string valued = "")
{
    public string Name { get; } = name;

    /// <summary>The options and arguments as zkCli's usage lists them, e.g. "[-s] [-w] path".</summary>
    public string Usage { get; } = usage;

    /// <summary>"name usage": what zkCli prints when the command is used wrongly.</summary>
    public string UsageLine => $"{Name} {Usage}";

    public abstract Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words);

    protected CliArgs Parse(IReadOnlyList<string> words, int minArgs)
    {
        var args = CliArgs.Parse(words, flags, valued);
        if (args.Args.Count < minArgs) throw UsageError();
        return args;
    }

    protected CliException UsageError() => new(UsageLine);

    /// <summary>An int option value, or <paramref name="fallback"/> when absent.</summary>
    protected static int IntOption(CliArgs args, char option, int fallback)
    {
        if (args.Value(option) is not { } text) return fallback;
        return int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new CliException($"-{option} argument must be an int value");
    }

    /// <summary>zkCli's old "cmd path watch" form: a third word means -w, with a warning.</summary>
    protected static bool DeprecatedWatchWord(ZkShell shell, CliArgs args, string oldForm, string newForm)
    {
        if (args.Args.Count <= 2) return false;
        shell.Err($"'{oldForm}' has been deprecated. Please use '{newForm}' instead.");
        return true;
    }
}
