using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.MessageGenerator;

/// <summary>
/// A struct of a description as the generated code sees it: its class name, the versions in which it can occur at
/// all (<see cref="Reach"/>, so conditions inside a v12+ struct need not test for v12) and its fields.
/// </summary>
internal sealed class StructModel
{
    public StructModel(MessageSchema message, StructSchema schema, string className, string path, VersionRange reach, StructModel? parent)
    {
        Message = message;
        Schema = schema;
        ClassName = className;
        Path = path;
        Reach = reach;
        Parent = parent;
        foreach (var field in schema.Fields)
        {
            var model = new FieldModel(this, field);
            Fields.Add(model);
            if (model.Child is not null) Children.Add(model.Child);
        }
        CheckNames();
    }

    public MessageSchema Message { get; }
    public StructSchema Schema { get; }
    public string ClassName { get; }
    /// <summary>The struct's place in the message, for error texts: "FetchRequest.Topics.Partitions".</summary>
    public string Path { get; }
    public VersionRange Reach { get; }
    public StructModel? Parent { get; }
    public bool IsRoot => Parent is null;
    public List<FieldModel> Fields { get; } = [];
    public List<StructModel> Children { get; } = [];

    /// <summary>A C# condition on <c>version</c> that holds exactly for the versions in <see cref="Reach"/> where <paramref name="holds"/> does.</summary>
    public string Condition(Func<short, bool> holds) => Conditions.Render(Reach, holds);

    public bool IsFlexible(short version) => Message.FlexibleVersions.Contains(version);

    /// <summary>"true", "false", or the local <c>flexible</c> the read and write methods declare.</summary>
    public string Flexible
    {
        get
        {
            string condition = Condition(IsFlexible);
            return condition is "true" or "false" ? condition : "flexible";
        }
    }

    /// <summary>Members every generated class has; a field may not take these names.</summary>
    private static readonly string[] Reserved =
        ["UnknownTaggedFields", "Write", "Read", "WriteBody", "ReadBody", "IsAllDefaults", "MinSize", "MinSizes", "IsKnownTag",
         "LowestSupportedVersion", "HighestSupportedVersion", "Equals", "GetHashCode", "ToString", "GetType"];

    private void CheckNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { ClassName };
        foreach (string reserved in Reserved) names.Add(reserved);
        foreach (var field in Fields)
        {
            if (!names.Add(field.Property)) throw new InvalidOperationException($"{Path}.{field.Field.Name}: the property {field.Property} clashes with another member of {ClassName}");
            if (field.Child is not null && !names.Add(field.Child.ClassName))
                throw new InvalidOperationException($"{Path}.{field.Field.Name}: the class {field.Child.ClassName} clashes with another member of {ClassName}");
        }
    }

    /// <summary>The smallest encoding of this struct in a version, as the codec computes it to bound array counts.</summary>
    public int MinSize(short version)
    {
        bool flexible = IsFlexible(version);
        int size = flexible ? 1 : 0;
        foreach (var field in Fields)
            if (field.IsRegularIn(version)) size += field.MinSize(version, flexible);
        return size;
    }
}

/// <summary>A field with its C# names and types.</summary>
internal sealed class FieldModel
{
    public FieldModel(StructModel owner, Field field)
    {
        Owner = owner;
        Field = field;
        Property = Naming.Property(field.Name);
        // Nullable in C# when the wire lets it be null in some version, or when null is its default; records default to null.
        NullableType = field.DefaultNull || field.Kind == FieldKind.Records || !field.NullableVersions.Intersect(field.Versions).IsEmpty;
        if (field.Kind == FieldKind.Struct)
        {
            string className = field.IsArray ? field.Struct!.Name + "Item" : field.Struct!.Name + "Data";
            var reach = owner.Reach.Intersect(field.Versions);
            Child = new StructModel(owner.Message, field.Struct, className, $"{owner.Path}.{field.Name}", reach, owner);
        }
        ElementType = field.Kind switch
        {
            FieldKind.Struct => Child!.ClassName,
            FieldKind.Bool => "bool",
            FieldKind.Int8 => "sbyte",
            FieldKind.Int16 => "short",
            FieldKind.UInt16 => "ushort",
            FieldKind.Int32 => "int",
            FieldKind.UInt32 => "uint",
            FieldKind.Int64 => "long",
            FieldKind.Float64 => "double",
            FieldKind.Uuid => "Guid",
            FieldKind.String => "string",
            FieldKind.Bytes or FieldKind.Records => "ReadOnlyMemory<byte>",
            _ => throw new InvalidOperationException($"{field}: unknown kind"),
        };
        if (field.IsArray && field.Kind is not (FieldKind.Struct or FieldKind.Int16 or FieldKind.Int32 or FieldKind.Int64 or FieldKind.String or FieldKind.Uuid))
            throw new InvalidOperationException($"{owner.Path}.{field.Name}: arrays of {field.Kind} are not supported (nor by the codec)");
        bool referenceOrNullable = field.IsArray || field.Kind is FieldKind.String or FieldKind.Struct or FieldKind.Bytes or FieldKind.Records;
        if (NullableType && !referenceOrNullable)
            throw new InvalidOperationException($"{owner.Path}.{field.Name}: a nullable {field.Kind} is not supported");
        Type = (field.IsArray ? $"List<{ElementType}>" : ElementType) + (NullableType ? "?" : "");
    }

    public StructModel Owner { get; }
    public Field Field { get; }
    public string Property { get; }
    public string Type { get; }
    /// <summary>The type of the value, or of each element of an array.</summary>
    public string ElementType { get; }
    public bool NullableType { get; }
    public StructModel? Child { get; }

    /// <summary>
    /// A single struct (not an array) that is never null: kept in a backing field and made on first use, so that the
    /// tagged structs a message rarely carries (Fetch's DivergingEpoch, CurrentLeader, SnapshotId) cost nothing when
    /// absent. Null written or set means the default struct.
    /// </summary>
    public bool IsLazy => Field.Kind == FieldKind.Struct && !Field.IsArray && !NullableType;
    public string Backing => "_" + Naming.Local(Field.Name);
    /// <summary>Where generated code inside the class reads the value without making it.</summary>
    public string Storage => IsLazy ? Backing : Property;
    public string Path => $"{Owner.Path}.{Field.Name}";
    /// <summary>A name for locals of this field that cannot clash with those of an enclosing or sibling field.</summary>
    public string Local => Naming.Local(Field.Name) + Field.Index;

    public bool IsRegularIn(short version) => Field.Versions.Contains(version) && !Field.IsTaggedIn(version);
    public bool IsTaggedIn(short version) => Field.Versions.Contains(version) && Field.IsTaggedIn(version);

    public int MinSize(short version, bool flexible)
    {
        if (Field.IsArray || Field.Kind is FieldKind.Bytes or FieldKind.Records) return flexible ? 1 : 4;
        return Field.Kind switch
        {
            FieldKind.Bool or FieldKind.Int8 => 1,
            FieldKind.Int16 or FieldKind.UInt16 => 2,
            FieldKind.Int32 or FieldKind.UInt32 => 4,
            FieldKind.Int64 or FieldKind.Float64 => 8,
            FieldKind.Uuid => 16,
            FieldKind.String => flexible ? 1 : 2,
            FieldKind.Struct => Child!.MinSize(version),
            _ => 0,
        };
    }

    /// <summary>The minimum element size the codec uses to bound an array's count.</summary>
    public string ElementMinSize => Field.Kind switch
    {
        FieldKind.Struct => $"{Child!.ClassName}.MinSize(version)",
        FieldKind.Int16 => "2",
        FieldKind.Int32 => "4",
        FieldKind.Int64 => "8",
        FieldKind.Uuid => "16",
        _ => "1",
    };

    /// <summary>The default as a C# expression, or null where it is the type's own default (0, false, null, empty memory).</summary>
    public string? Default
    {
        get
        {
            var f = Field;
            if (f.IsArray) return f.DefaultNull ? null : "new()";
            return f.Kind switch
            {
                FieldKind.Bool => f.DefaultNumber != 0 ? "true" : null,
                FieldKind.Float64 => f.DefaultNumber != 0 ? $"BitConverter.Int64BitsToDouble(0x{f.DefaultNumber:X}L)" : null,
                FieldKind.Int8 or FieldKind.Int16 or FieldKind.UInt16 or FieldKind.Int32 or FieldKind.UInt32 or FieldKind.Int64 =>
                    f.DefaultNumber != 0 ? Number(f.DefaultNumber) : null,
                FieldKind.Uuid => null,
                FieldKind.String => f.DefaultNull ? null : "\"\"",
                FieldKind.Bytes => NullableType && !f.DefaultNull ? "ReadOnlyMemory<byte>.Empty" : null,
                FieldKind.Records => null,
                FieldKind.Struct => f.DefaultNull || IsLazy ? null : "new()",
                _ => throw new InvalidOperationException(f.ToString()),
            };
        }
    }

    /// <summary>
    /// Whether the field holds its default, which keeps a tagged field off the wire. The same rule as the codec's:
    /// empty strings, bytes and arrays and all-default structs count as default unless the default is null.
    /// </summary>
    public string IsDefault()
    {
        var field = Field;
        string p = Storage;
        if (field.IsArray) return field.DefaultNull ? $"{p} is null" : $"({p} is null || {p}.Count == 0)";
        return field.Kind switch
        {
            FieldKind.Bool => field.DefaultNumber != 0 ? p : $"!{p}",
            FieldKind.Float64 => $"BitConverter.DoubleToInt64Bits({p}) == {Number(field.DefaultNumber)}L",
            FieldKind.Int8 or FieldKind.Int16 or FieldKind.UInt16 or FieldKind.Int32 or FieldKind.UInt32 or FieldKind.Int64 =>
                $"{p} == {Number(field.DefaultNumber)}",
            FieldKind.Uuid => $"{p} == Guid.Empty",
            FieldKind.String => field.DefaultNull ? $"{p} is null" : $"({p} is not null && {p}.Length == 0)",
            FieldKind.Bytes or FieldKind.Records => !NullableType ? $"{p}.Length == 0"
                : field.DefaultNull ? $"{p} is null" : $"({p} is null || {p}.Value.Length == 0)",
            FieldKind.Struct => field.DefaultNull ? $"{p} is null" : IsLazy ? $"({p} is null || {p}.IsAllDefaults())" : $"({p} is not null && {p}.IsAllDefaults())",
            _ => throw new InvalidOperationException(field.ToString()),
        };
    }

    private string Number(long value) => (Field.Kind, value) switch
    {
        (FieldKind.Int32, int.MinValue) => "int.MinValue",
        (FieldKind.Int64, long.MinValue) => "long.MinValue",
        _ => value.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

internal static class Naming
{
    /// <summary>Descriptions name fields as Kafka's specs do, mostly PascalCase; the record formats use camelCase.</summary>
    public static string Property(string fieldName)
    {
        if (fieldName.Length == 0 || !char.IsLetter(fieldName[0])) throw new InvalidOperationException($"field name '{fieldName}' cannot be a property");
        return char.ToUpperInvariant(fieldName[0]) + fieldName[1..];
    }

    public static string Local(string fieldName) => char.ToLowerInvariant(fieldName[0]) + fieldName[1..];
}

internal static class Conditions
{
    /// <summary>
    /// Renders the versions of <paramref name="domain"/> where <paramref name="holds"/> is true as a condition on
    /// <c>version</c>: "true", "false", or ranges joined by ||, with bounds at the domain's ends left out.
    /// </summary>
    public static string Render(VersionRange domain, Func<short, bool> holds)
    {
        if (domain.IsEmpty) return "false";
        var runs = new List<(short From, short To)>();
        for (int v = domain.Min; v <= domain.Max; v++)
        {
            if (!holds((short)v)) continue;
            if (runs.Count > 0 && runs[^1].To == v - 1) runs[^1] = (runs[^1].From, (short)v);
            else runs.Add(((short)v, (short)v));
        }
        if (runs.Count == 0) return "false";
        if (runs.Count == 1 && runs[0].From == domain.Min && runs[0].To == domain.Max) return "true";
        var parts = new List<string>();
        foreach (var (from, to) in runs)
        {
            bool low = from > domain.Min, high = to < domain.Max;
            if (from == to && low && high) parts.Add($"version == {from}");
            else if (low && high) parts.Add($"(version >= {from} && version <= {to})");
            else if (low) parts.Add($"version >= {from}");
            else parts.Add($"version <= {to}");
        }
        return parts.Count == 1 ? parts[0].TrimStart('(').TrimEnd(')') : string.Join(" || ", parts);
    }
}
