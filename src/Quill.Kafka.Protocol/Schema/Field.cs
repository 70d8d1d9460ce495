namespace Quill.Kafka.Protocol.Schema;

/// <summary>The wire type of a field (or of an array's elements).</summary>
public enum FieldKind : byte
{
    Bool, Int8, Int16, UInt16, Int32, UInt32, Int64, Float64, Uuid,
    String, Bytes,
    /// <summary>Bytes carrying record batches; kept as a raw slice, never parsed by the message codec.</summary>
    Records,
    /// <summary>A nested struct (a single value, not an array).</summary>
    Struct,
}

/// <summary>
/// One field of a message description, with the facts Kafka's JSON specs carry: the versions it exists in,
/// the versions it may be null in, its tag (for tagged fields), and its default.
/// Build fields with <see cref="F"/>; the fluent setters are only for building descriptions.
/// </summary>
public sealed class Field
{
    internal Field(string name, FieldKind kind, bool isArray, string versions, StructSchema? structSchema)
    {
        Name = name;
        Kind = kind;
        IsArray = isArray;
        Versions = VersionRange.Parse(versions);
        Struct = structSchema;
    }

    public string Name { get; }
    /// <summary>The type of the value, or of each element when <see cref="IsArray"/>.</summary>
    public FieldKind Kind { get; }
    public bool IsArray { get; }
    /// <summary>The struct of a struct field or of a struct array's elements.</summary>
    public StructSchema? Struct { get; }
    public VersionRange Versions { get; }
    public VersionRange NullableVersions { get; private set; } = VersionRange.None;
    /// <summary>Tag number for a tagged field, or -1.</summary>
    public int Tag { get; private set; } = -1;
    public VersionRange TaggedVersions { get; private set; } = VersionRange.None;
    /// <summary>Default of a numeric or bool field (bools: 0/1).</summary>
    public long DefaultNumber { get; private set; }
    /// <summary>Default of a string field: "" unless the spec says "null".</summary>
    public bool DefaultNull { get; private set; }

    /// <summary>Position of the field in its struct.</summary>
    public int Index { get; internal set; }
    /// <summary>Slot in <see cref="StructValue"/>: in the number slots for scalars, else in the object slots.</summary>
    internal int Slot { get; set; }
    internal bool InNumberSlot => !IsArray && Kind <= FieldKind.Float64;

    public bool IsTaggedIn(short version) => Tag >= 0 && TaggedVersions.Contains(version);
    public bool IsNullableIn(short version) => NullableVersions.Contains(version);

    public Field Nullable(string versions)
    {
        NullableVersions = VersionRange.Parse(versions);
        return this;
    }

    /// <summary>Marks a tagged field; its tagged versions default to all the versions it exists in.</summary>
    public Field Tagged(int tag, string? taggedVersions = null)
    {
        Tag = tag;
        TaggedVersions = taggedVersions is null ? Versions : VersionRange.Parse(taggedVersions);
        return this;
    }

    public Field Default(long value)
    {
        DefaultNumber = value;
        return this;
    }

    public Field DefaultsToNull()
    {
        DefaultNull = true;
        return this;
    }

    public override string ToString() => $"{Name} ({(IsArray ? "[]" : "")}{Struct?.Name ?? Kind.ToString()}, v{Versions})";
}
