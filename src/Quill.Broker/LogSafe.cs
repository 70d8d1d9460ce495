using System.Globalization;
using System.Text;

namespace Quill.Broker;

/// <summary>
/// Client-supplied text (client, group, member, instance and transactional ids, protocol names, SASL mechanisms,
/// config values) made safe to put in a log line. Control characters, line and paragraph separators and bidirectional
/// overrides are written as <c>\xNN</c> or <c>\uNNNN</c>, so a client can neither end the line and forge the next
/// one, nor send terminal escape sequences to whoever reads the log, nor make a line read backwards. Everything else,
/// backslashes included, is kept as it is, so ordinary ids read the same.
/// </summary>
public static class LogSafe
{
    /// <summary>The text with every unsafe character escaped; the same instance when there is none; null stays null.</summary>
    public static string? Text(string? text)
    {
        if (text is null) return null;
        int first = 0;
        while (first < text.Length && !IsUnsafe(text[first])) first++;
        if (first == text.Length) return text;

        var escaped = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (!IsUnsafe(c)) escaped.Append(c);
            else if (c <= 0xFF) escaped.Append("\\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            else escaped.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
        }
        return escaped.ToString();
    }

    /// <summary>An object's text (e.g. a member or transaction that prints its client-given id), escaped.</summary>
    public static string? Text(object? value) => Text(value?.ToString());

    private static bool IsUnsafe(char c) =>
        char.IsControl(c)                      // C0, DEL and C1 (NEL among them)
        || c is '\u2028' or '\u2029'            // line and paragraph separators
        || c is >= '\u202A' and <= '\u202E'     // bidirectional embeddings and overrides
        || c is >= '\u2066' and <= '\u2069';    // bidirectional isolates
}
