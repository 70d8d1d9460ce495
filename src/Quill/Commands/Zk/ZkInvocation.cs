using System.Globalization;

namespace Quill.Commands.Zk;

/// <summary>The words after `quill zk`: zkCli's own options, then an optional command with its arguments.</summary>
public sealed record ZkInvocation
{
    public const string Synopsis = "usage: quill zk [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r] [command args...]";

    public string Server { get; init; } = "localhost:2181";

    /// <summary>The session timeout asked for, in ms; also how long the first connection may take.</summary>
    public int TimeoutMs { get; init; } = 30000;

    /// <summary>-r: accept a read-only server.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>The command to run once, or null for the interactive shell.</summary>
    public IReadOnlyList<string>? Command { get; init; }

    public bool ShowHelp { get; init; }

    /// <summary>Why the words are not a valid invocation, or null.</summary>
    public string? Error { get; init; }

    public static ZkInvocation Parse(IReadOnlyList<string> words)
    {
        var result = new ZkInvocation();
        for (int i = 0; i < words.Count; i++)
        {
            string word = words[i];
            if (!word.StartsWith('-'))
                return result with { Command = words.Skip(i).ToList() };
            if (word is "-r")
            {
                result = result with { ReadOnly = true };
                continue;
            }
            if (word is "-waitforconnection") continue; // Quill always waits for the connection.
            if (word is "-h" or "-?" or "--help" or "-help")
                return result with { ShowHelp = true };
            if (word is not ("-server" or "-timeout" or "-client-configuration"))
                return result with { Error = $"unknown option {word}" };
            if (i + 1 >= words.Count)
                return result with { Error = $"no argument found for option {word}" };
            string value = words[++i];
            switch (word)
            {
                case "-server":
                    result = result with { Server = value };
                    break;
                case "-timeout":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int ms) || ms <= 0)
                        return result with { Error = $"-timeout must be a positive number of milliseconds, not '{value}'" };
                    result = result with { TimeoutMs = ms };
                    break;
                default:
                    return result with { Error = "-client-configuration is not supported" };
            }
        }
        return result;
    }
}
