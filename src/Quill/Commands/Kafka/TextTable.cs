namespace Quill.Commands.Kafka;

/// <summary>
/// The plain column layout of Kafka's admin scripts: each column as wide as its widest cell, one space between
/// columns, no borders, so that scripts can split lines on whitespace.
/// </summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int RowCount => _rows.Count;

    public void Add(params object?[] cells) => _rows.Add(cells.Select(c => c?.ToString() ?? "-").ToArray());

    public void Write(TextWriter output)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        WriteLine(output, headers, widths);
        foreach (var row in _rows) WriteLine(output, row, widths);
    }

    private static void WriteLine(TextWriter output, string[] cells, int[] widths) =>
        output.WriteLine(string.Join(' ', cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))));
}
