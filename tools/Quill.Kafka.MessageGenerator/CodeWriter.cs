using System.Text;

namespace Quill.Kafka.MessageGenerator;

/// <summary>A StringBuilder that indents by block.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public CodeWriter Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    /// <summary>Starts a block; with an empty line, a bare block (scoping locals).</summary>
    public CodeWriter Open(string line)
    {
        if (line.Length > 0) Line(line);
        Line("{");
        _indent++;
        return this;
    }

    public CodeWriter Close(string closing = "}")
    {
        _indent--;
        return Line(closing);
    }

    public override string ToString() => _text.ToString();
}
