using System.Globalization;
using System.Text;

namespace Quill.Keeper;

/// <summary>
/// Makes a client-supplied string (a path, an auth scheme, ...) safe to put in a log line: a client must not be able to
/// start a line of its own, overwrite one (\r), or hide text (bidi overrides), so control and format characters become
/// \xNN or \uNNNN, and the backslash itself doubles so an escape in the log always means an escape. Very long values
/// are cut: a log line about a request is not the place for a megabyte of it.
/// </summary>
public static class LogText
{
    public const int MaxLength = 512;

    public static string Escape(string? value)
    {
        if (value is null) return "null";
        // Cut first, so that a surrogate pair split by the cut is escaped as the lone half it has become.
        string s = value.Length > MaxLength ? value[..MaxLength] : value;
        int i = 0;
        while (i < s.Length && !NeedsEscape(s, i)) i++;
        if (i == s.Length && s.Length == value.Length) return value; // the usual case: nothing to do, no copy

        var sb = new StringBuilder(s.Length + 16);
        sb.Append(s, 0, i);
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (!NeedsEscape(s, i)) sb.Append(c);
            else if (c == '\\') sb.Append(@"\\");
            else if (c < 0x80) sb.Append(@"\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append(@"\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        if (s.Length < value.Length) sb.Append(CultureInfo.InvariantCulture, $"...({value.Length} chars)");
        return sb.ToString();
    }

    private static bool NeedsEscape(string s, int i)
    {
        char c = s[i];
        if (c is >= ' ' and < '\x7f') return c == '\\';
        if (c < ' ' || c == '\x7f') return true;
        if (char.IsHighSurrogate(c)) return i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]); // a pair is printable text
        if (char.IsLowSurrogate(c)) return i == 0 || !char.IsHighSurrogate(s[i - 1]);
        return CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
    }
}
