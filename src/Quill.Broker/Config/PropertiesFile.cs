using System.Globalization;
using System.Text;

namespace Quill.Broker.Config;

/// <summary>
/// Java's .properties format, as Kafka reads server.properties: <c>key=value</c>, <c>key: value</c> or
/// <c>key value</c>; <c>#</c> and <c>!</c> comment lines; a trailing backslash continues the line; backslash escapes
/// (<c>\t \n \r \f \uXXXX</c>, and any other character stands for itself). Later keys win.
/// </summary>
public static class PropertiesFile
{
    public static Dictionary<string, string> Parse(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string logical in LogicalLines(text))
        {
            var (key, value) = SplitKeyValue(logical);
            result[key] = value;
        }
        return result;
    }

    /// <summary>Joins continued lines and drops comments and blank lines.</summary>
    private static IEnumerable<string> LogicalLines(string text)
    {
        var current = new StringBuilder();
        bool continuing = false;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            string trimmed = line.TrimStart(' ', '\t', '\f');
            if (!continuing && (trimmed.Length == 0 || trimmed[0] is '#' or '!')) continue;
            if (continuing) line = trimmed;
            if (EndsWithContinuation(line))
            {
                current.Append(line, 0, line.Length - 1);
                continuing = true;
                continue;
            }
            current.Append(continuing ? line : trimmed);
            continuing = false;
            yield return current.ToString();
            current.Clear();
        }
        if (current.Length > 0) yield return current.ToString();
    }

    private static bool EndsWithContinuation(string line)
    {
        int backslashes = 0;
        for (int i = line.Length - 1; i >= 0 && line[i] == '\\'; i--) backslashes++;
        return backslashes % 2 == 1;
    }

    private static (string Key, string Value) SplitKeyValue(string line)
    {
        int i = 0;
        var key = new StringBuilder();
        while (i < line.Length)
        {
            char c = line[i];
            if (c == '\\' && i + 1 < line.Length) { i = Unescape(line, i, key); continue; }
            if (c is '=' or ':' or ' ' or '\t' or '\f') break;
            key.Append(c);
            i++;
        }
        // Separator: whitespace, then at most one '=' or ':', then whitespace.
        while (i < line.Length && line[i] is ' ' or '\t' or '\f') i++;
        if (i < line.Length && line[i] is '=' or ':') i++;
        while (i < line.Length && line[i] is ' ' or '\t' or '\f') i++;
        var value = new StringBuilder();
        while (i < line.Length)
        {
            if (line[i] == '\\' && i + 1 < line.Length) { i = Unescape(line, i, value); continue; }
            value.Append(line[i++]);
        }
        return (key.ToString(), value.ToString());
    }

    private static int Unescape(string line, int i, StringBuilder into)
    {
        char next = line[i + 1];
        switch (next)
        {
            case 't': into.Append('\t'); return i + 2;
            case 'n': into.Append('\n'); return i + 2;
            case 'r': into.Append('\r'); return i + 2;
            case 'f': into.Append('\f'); return i + 2;
            case 'u' when i + 6 <= line.Length
                && int.TryParse(line.AsSpan(i + 2, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code):
                into.Append((char)code);
                return i + 6;
            default: into.Append(next); return i + 2;
        }
    }
}
