namespace Quill.Kafka.Protocol.Schema;

/// <summary>
/// A struct in a message description: its fields in wire order, and per version a precomputed plan
/// (which fields are on the wire, which are tagged, which take their default) so that encoding and
/// decoding never interpret version ranges per message.
/// </summary>
public sealed class StructSchema
{
    private readonly Dictionary<string, Field> _byName = new(StringComparer.Ordinal);
    private StructPlan[] _plans = [];

    internal StructSchema(string name, Field[] fields)
    {
        Name = name;
        Fields = fields;
        int numbers = 0, objects = 0;
        for (int i = 0; i < fields.Length; i++)
        {
            var field = fields[i];
            if (!_byName.TryAdd(field.Name, field)) throw new ArgumentException($"{name} has two fields named {field.Name}");
            field.Index = i;
            field.Slot = field.InNumberSlot ? numbers++ : objects++;
        }
        NumberSlots = numbers;
        ObjectSlots = objects;
    }

    public string Name { get; }
    public IReadOnlyList<Field> Fields { get; }
    internal int NumberSlots { get; }
    internal int ObjectSlots { get; }

    public Field this[string name] =>
        _byName.TryGetValue(name, out var field) ? field : throw new KeyNotFoundException($"{Name} has no field {name}");

    public bool TryGetField(string name, out Field field) => _byName.TryGetValue(name, out field!);

    /// <summary>A new value of this struct with every field at its default.</summary>
    public StructValue New() => new(this, initializeDefaults: true);

    internal StructPlan Plan(short version) =>
        (uint)version < (uint)_plans.Length ? _plans[version] : throw new InvalidOperationException($"{Name} has no plan for version {version}");

    /// <summary>Computes the plans for versions 0..max of the message this struct belongs to.</summary>
    internal void Freeze(short maxVersion, VersionRange flexibleVersions)
    {
        foreach (var field in Fields)
            if (field.Kind == FieldKind.Struct) field.Struct!.Freeze(maxVersion, flexibleVersions);
        var plans = new StructPlan[maxVersion + 1];
        for (short v = 0; v <= maxVersion; v++)
        {
            bool flexible = flexibleVersions.Contains(v);
            var regular = new List<Field>();
            var tagged = new List<Field>();
            var absent = new List<Field>();
            foreach (var field in Fields)
            {
                bool present = field.Versions.Contains(v);
                if (present && field.IsTaggedIn(v))
                {
                    if (!flexible) throw new InvalidOperationException($"{Name}.{field.Name} is tagged in v{v}, which is not flexible");
                    tagged.Add(field);
                    absent.Add(field);
                }
                else if (present) regular.Add(field);
                else absent.Add(field);
            }
            tagged.Sort((a, b) => a.Tag.CompareTo(b.Tag));
            for (int i = 1; i < tagged.Count; i++)
                if (tagged[i].Tag == tagged[i - 1].Tag) throw new InvalidOperationException($"{Name} repeats tag {tagged[i].Tag} in v{v}");
            int minSize = flexible ? 1 : 0;
            foreach (var field in regular) minSize += MinSize(field, v, flexible);
            plans[v] = new StructPlan([.. regular], [.. tagged], [.. absent], flexible, minSize);
        }
        _plans = plans;
    }

    private static int MinSize(Field field, short version, bool flexible)
    {
        if (field.IsArray || field.Kind is FieldKind.Bytes or FieldKind.Records) return flexible ? 1 : 4;
        return field.Kind switch
        {
            FieldKind.Bool or FieldKind.Int8 => 1,
            FieldKind.Int16 or FieldKind.UInt16 => 2,
            FieldKind.Int32 or FieldKind.UInt32 => 4,
            FieldKind.Int64 or FieldKind.Float64 => 8,
            FieldKind.Uuid => 16,
            FieldKind.String => flexible ? 1 : 2,
            FieldKind.Struct => field.Struct!.Plan(version).MinSize,
            _ => 0,
        };
    }

    public override string ToString() => Name;
}

/// <summary>What a struct looks like on the wire in one version.</summary>
internal sealed record StructPlan(Field[] Regular, Field[] Tagged, Field[] Absent, bool Flexible, int MinSize);
