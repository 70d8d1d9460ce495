using System.Text.RegularExpressions;

namespace Quill.Commands.Zk;

/// <summary>
/// Splits an interactive line into words as zkCli does: whitespace separates words, and a word that starts with a
/// quote runs to the matching quote, which is then dropped (<c>set /a "two words"</c>). A quote inside a word is
/// kept as it is.
/// </summary>
public static partial class LineSplitter
{
    public static List<string> Split(string line)
    {
        var words = new List<string>();
        foreach (Match match in Word().Matches(line))
        {
            string word = match.Groups[1].Value;
            bool quoted = word.Length >= 2 && word[0] is '"' or '\'' && word[^1] == word[0];
            words.Add(quoted ? word[1..^1] : word);
        }
        return words;
    }

    [GeneratedRegex("""\s*([^"'\s]\S*|"[^"]*"|'[^']*')\s*""")]
    private static partial Regex Word();
}
