using System.Text;
using System.Text.RegularExpressions;

namespace Quill.Testing.Fuzzing;

/// <summary>
/// Reads a server's whole log after a fuzz run: the lines that mean something went wrong (error or critical level,
/// or what the runtime prints when a process dies of an exception), and the warnings counted by kind (numbers left
/// out) for the run's summary.
/// </summary>
public static partial class ServerLogScan
{
    public static (List<string> Problems, Dictionary<string, long> Warnings) Scan(string path)
    {
        var problems = new List<string>();
        var warnings = new Dictionary<string, long>();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            int warn = line.IndexOf(" warn: ", StringComparison.Ordinal);
            if (warn >= 0)
            {
                string kind = Digits().Replace(line[(warn + 7)..], "N");
                kind = kind[..Math.Min(kind.Length, 100)];
                warnings[kind] = warnings.GetValueOrDefault(kind) + 1;
            }
            else if (ErrorLine().IsMatch(line) && problems.Count < 20) problems.Add(line.Length > 2000 ? line[..2000] : line);
        }
        return (problems, warnings);
    }

    [GeneratedRegex(@"^\S+ \S+ (fail|crit): |Unhandled exception|Process terminated|OutOfMemory|StackOverflow")]
    private static partial Regex ErrorLine();

    [GeneratedRegex(@"(0x)?[0-9a-f]*[0-9][0-9a-f]*")]
    private static partial Regex Digits();
}
