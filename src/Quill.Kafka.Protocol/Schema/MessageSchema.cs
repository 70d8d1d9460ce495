namespace Quill.Kafka.Protocol.Schema;

/// <summary>
/// One request or response body described once: its versions, the versions that are flexible (compact
/// encodings and tagged fields), and its fields. <see cref="MessageCodec"/> derives the encoding of every
/// version from this.
/// </summary>
public sealed class MessageSchema
{
    public MessageSchema(string name, string validVersions, string flexibleVersions, params Field[] fields)
    {
        Name = name;
        ValidVersions = VersionRange.Parse(validVersions);
        FlexibleVersions = VersionRange.Parse(flexibleVersions);
        Root = new StructSchema(name, fields);
        Root.Freeze(ValidVersions.Max, FlexibleVersions);
    }

    public string Name { get; }
    public VersionRange ValidVersions { get; }
    public VersionRange FlexibleVersions { get; }
    public StructSchema Root { get; }

    public bool IsFlexible(short version) => FlexibleVersions.Contains(version);

    /// <summary>A new, all-defaults body of this message.</summary>
    public StructValue New() => Root.New();

    public override string ToString() => $"{Name} v{ValidVersions}";
}
