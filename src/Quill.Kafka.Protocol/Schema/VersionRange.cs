namespace Quill.Kafka.Protocol.Schema;

/// <summary>An inclusive range of versions as Kafka's specs write them: "3+", "0-7", "5", or "none".</summary>
public readonly record struct VersionRange(short Min, short Max)
{
    public static readonly VersionRange None = new(1, 0);
    public static readonly VersionRange All = new(0, short.MaxValue);

    public bool IsEmpty => Min > Max;
    public bool Contains(short version) => version >= Min && version <= Max;

    public static VersionRange From(short min) => new(min, short.MaxValue);

    public static VersionRange Parse(string text)
    {
        text = text.Trim();
        if (text == "none") return None;
        if (text.EndsWith('+')) return From(short.Parse(text[..^1]));
        int dash = text.IndexOf('-');
        if (dash > 0) return new(short.Parse(text[..dash]), short.Parse(text[(dash + 1)..]));
        short single = short.Parse(text);
        return new(single, single);
    }

    /// <summary>The part of this range that is also in <paramref name="other"/>.</summary>
    public VersionRange Intersect(VersionRange other) => new(Math.Max(Min, other.Min), Math.Min(Max, other.Max));

    public override string ToString() => IsEmpty ? "none" : Max == short.MaxValue ? $"{Min}+" : Min == Max ? $"{Min}" : $"{Min}-{Max}";
}
