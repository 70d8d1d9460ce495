namespace Quill.Commands.Zk;

/// <summary>
/// A zkCli command failed: <see cref="Exception.Message"/> goes to stderr (unless empty: the command has already
/// said why) and the shell's exit code becomes <see cref="ExitCode"/>.
/// </summary>
public sealed class CliException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// One command's words after option parsing, the way zkCli's commands see them (Apache commons-cli): positional
/// words with the command name first, single-letter flags, and single-letter options that take a value.
/// </summary>
public sealed class CliArgs
{
    private readonly HashSet<char> _flags = [];
    private readonly Dictionary<char, string> _values = [];

    private CliArgs(List<string> positional) => Args = positional;

    /// <summary>The positional words; [0] is the command name.</summary>
    public IReadOnlyList<string> Args { get; }

    public bool Has(char option) => _flags.Contains(option) || _values.ContainsKey(option);

    public string? Value(char option) => _values.GetValueOrDefault(option);

    /// <summary>
    /// Parses <paramref name="words"/> (command name first). <paramref name="flags"/> lists the letters that are
    /// plain switches, <paramref name="valued"/> those that take a value. Options may come anywhere (zkCli accepts
    /// <c>deleteall /a -b 10</c>), may be bundled (<c>-se</c>), and a value may be attached (<c>-v3</c>). A negative
    /// number and everything after <c>--</c> are positional.
    /// </summary>
    public static CliArgs Parse(IReadOnlyList<string> words, string flags, string valued = "")
    {
        var result = new CliArgs([words[0]]);
        var positional = (List<string>)result.Args;
        bool optionsEnded = false;
        for (int i = 1; i < words.Count; i++)
        {
            string word = words[i];
            if (optionsEnded || word.Length < 2 || word[0] != '-' || IsNegativeNumber(word))
            {
                positional.Add(word);
                continue;
            }
            if (word == "--")
            {
                optionsEnded = true;
                continue;
            }
            for (int c = 1; c < word.Length; c++)
            {
                char letter = word[c];
                if (flags.Contains(letter))
                {
                    result._flags.Add(letter);
                }
                else if (valued.Contains(letter))
                {
                    string? value = c + 1 < word.Length ? word[(c + 1)..] : i + 1 < words.Count ? words[++i] : null;
                    result._values[letter] = value
                        ?? throw new CliException($"org.apache.commons.cli.MissingArgumentException: Missing argument for option: {letter}");
                    break;
                }
                else
                {
                    throw new CliException($"org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: {word}");
                }
            }
        }
        return result;
    }

    private static bool IsNegativeNumber(string word) => double.TryParse(word, System.Globalization.CultureInfo.InvariantCulture, out _);
}
