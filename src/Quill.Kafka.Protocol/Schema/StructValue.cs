using System.Text;

namespace Quill.Kafka.Protocol.Schema;

/// <summary>A tagged field the description does not know, kept as raw bytes so it survives a decode/encode.</summary>
public readonly record struct RawTaggedField(int Tag, ReadOnlyMemory<byte> Data);

/// <summary>
/// The value of one struct of a message: scalars in a number array, everything else in an object array,
/// both indexed by the field's slot. Access by field name (a dictionary lookup) or, on hot paths, by a
/// <see cref="Field"/> looked up once. Strings are .NET strings; bytes and records are slices of the decoded
/// input; struct arrays are <see cref="List{StructValue}"/>; scalar arrays are plain arrays.
/// A null object slot means null (or, for a field not nullable in the encoded version, empty).
/// </summary>
public sealed partial class StructValue
{
    internal readonly long[] Numbers;
    internal readonly object?[] Objects;

    internal StructValue(StructSchema schema, bool initializeDefaults)
    {
        Schema = schema;
        Numbers = schema.NumberSlots == 0 ? [] : new long[schema.NumberSlots];
        Objects = schema.ObjectSlots == 0 ? [] : new object?[schema.ObjectSlots];
        if (initializeDefaults)
            foreach (var field in schema.Fields) SetDefault(field);
    }

    public StructSchema Schema { get; }

    /// <summary>Tagged fields this description does not know, in tag order; re-emitted on encode.</summary>
    public List<RawTaggedField>? UnknownTaggedFields { get; set; }

    internal void SetDefault(Field field)
    {
        if (field.InNumberSlot) { Numbers[field.Slot] = field.DefaultNumber; return; }
        Objects[field.Slot] = DefaultObject(field);
    }

    private static object? DefaultObject(Field field)
    {
        if (field.DefaultNull) return null;
        if (field.IsArray) return field.Kind switch
        {
            FieldKind.Struct => new List<StructValue>(),
            FieldKind.Int16 => System.Array.Empty<short>(),
            FieldKind.Int32 => System.Array.Empty<int>(),
            FieldKind.Int64 => System.Array.Empty<long>(),
            FieldKind.String => System.Array.Empty<string>(),
            FieldKind.Uuid => System.Array.Empty<Guid>(),
            _ => null,
        };
        return field.Kind switch
        {
            FieldKind.String => "",
            FieldKind.Uuid => BoxedEmptyUuid,
            FieldKind.Struct => field.Struct!.New(),
            FieldKind.Bytes => BoxedEmptyBytes,
            _ => null, // records default to null, as in Kafka
        };
    }

    private static readonly object BoxedEmptyUuid = Guid.Empty;
    private static readonly object BoxedEmptyBytes = ReadOnlyMemory<byte>.Empty;

    private Field Checked(string name, bool number, string what)
    {
        var field = Schema[name];
        if (field.InNumberSlot != number) throw new InvalidOperationException($"{Schema.Name}.{name} is {field.Kind}{(field.IsArray ? "[]" : "")}, not {what}");
        return field;
    }

    private Field Checked(string name, FieldKind kind, bool array)
    {
        var field = Schema[name];
        if (field.Kind != kind || field.IsArray != array)
            throw new InvalidOperationException($"{Schema.Name}.{name} is {field.Kind}{(field.IsArray ? "[]" : "")}, not {kind}{(array ? "[]" : "")}");
        return field;
    }

    // Scalars. Integer kinds share one setter: the wire width comes from the description.
    public long GetNumber(Field field) => Numbers[field.Slot];
    public bool GetBool(string name) => Numbers[Checked(name, true, "bool").Slot] != 0;
    public sbyte GetInt8(string name) => (sbyte)Numbers[Checked(name, true, "int8").Slot];
    public short GetInt16(string name) => (short)Numbers[Checked(name, true, "int16").Slot];
    public ushort GetUInt16(string name) => (ushort)Numbers[Checked(name, true, "uint16").Slot];
    public int GetInt32(string name) => (int)Numbers[Checked(name, true, "int32").Slot];
    public uint GetUInt32(string name) => (uint)Numbers[Checked(name, true, "uint32").Slot];
    public long GetInt64(string name) => Numbers[Checked(name, true, "int64").Slot];
    public double GetFloat64(string name) => BitConverter.Int64BitsToDouble(Numbers[Checked(name, FieldKind.Float64, false).Slot]);

    public StructValue SetBool(string name, bool value) { Numbers[Checked(name, true, "bool").Slot] = value ? 1 : 0; return this; }
    public StructValue SetInt(string name, long value) { Numbers[Checked(name, true, "an integer").Slot] = value; return this; }
    public StructValue SetFloat64(string name, double value) { Numbers[Checked(name, FieldKind.Float64, false).Slot] = BitConverter.DoubleToInt64Bits(value); return this; }
    public StructValue SetNumber(Field field, long value) { Numbers[field.Slot] = value; return this; }

    // References.
    public object? GetObject(Field field) => Objects[field.Slot];
    public StructValue SetObject(Field field, object? value) { Objects[field.Slot] = value; return this; }

    public Guid GetUuid(string name) => Objects[Checked(name, FieldKind.Uuid, false).Slot] is Guid g ? g : Guid.Empty;
    public StructValue SetUuid(string name, Guid value) { Objects[Checked(name, FieldKind.Uuid, false).Slot] = value; return this; }

    public string? GetString(string name) => (string?)Objects[Checked(name, FieldKind.String, false).Slot];
    public StructValue SetString(string name, string? value) { Objects[Checked(name, FieldKind.String, false).Slot] = value; return this; }

    public ReadOnlyMemory<byte>? GetBytes(string name)
    {
        var field = Schema[name];
        if (field.IsArray || field.Kind is not (FieldKind.Bytes or FieldKind.Records))
            throw new InvalidOperationException($"{Schema.Name}.{name} is {field.Kind}, not bytes");
        return (ReadOnlyMemory<byte>?)Objects[field.Slot];
    }

    public StructValue SetBytes(string name, ReadOnlyMemory<byte>? value)
    {
        var field = Schema[name];
        if (field.IsArray || field.Kind is not (FieldKind.Bytes or FieldKind.Records))
            throw new InvalidOperationException($"{Schema.Name}.{name} is {field.Kind}, not bytes");
        Objects[field.Slot] = value;
        return this;
    }

    public StructValue GetStruct(string name) => (StructValue)Objects[Checked(name, FieldKind.Struct, false).Slot]!;

    public List<StructValue>? GetArray(string name) => (List<StructValue>?)Objects[Checked(name, FieldKind.Struct, true).Slot];
    public StructValue SetArray(string name, List<StructValue>? value) { Objects[Checked(name, FieldKind.Struct, true).Slot] = value; return this; }

    /// <summary>Appends a new, all-defaults element to a struct array (creating the array if null) and returns it.</summary>
    public StructValue AddElement(string name)
    {
        var field = Checked(name, FieldKind.Struct, true);
        var list = (List<StructValue>?)Objects[field.Slot];
        if (list is null) Objects[field.Slot] = list = [];
        var element = field.Struct!.New();
        list.Add(element);
        return element;
    }

    public short[]? GetInt16Array(string name) => (short[]?)Objects[Checked(name, FieldKind.Int16, true).Slot];
    public int[]? GetInt32Array(string name) => (int[]?)Objects[Checked(name, FieldKind.Int32, true).Slot];
    public long[]? GetInt64Array(string name) => (long[]?)Objects[Checked(name, FieldKind.Int64, true).Slot];
    public string?[]? GetStringArray(string name) => (string?[]?)Objects[Checked(name, FieldKind.String, true).Slot];
    public Guid[]? GetUuidArray(string name) => (Guid[]?)Objects[Checked(name, FieldKind.Uuid, true).Slot];
    public StructValue SetInt16Array(string name, short[]? value) { Objects[Checked(name, FieldKind.Int16, true).Slot] = value; return this; }
    public StructValue SetInt32Array(string name, int[]? value) { Objects[Checked(name, FieldKind.Int32, true).Slot] = value; return this; }
    public StructValue SetInt64Array(string name, long[]? value) { Objects[Checked(name, FieldKind.Int64, true).Slot] = value; return this; }
    public StructValue SetStringArray(string name, string?[]? value) { Objects[Checked(name, FieldKind.String, true).Slot] = value; return this; }
    public StructValue SetUuidArray(string name, Guid[]? value) { Objects[Checked(name, FieldKind.Uuid, true).Slot] = value; return this; }

    public override string ToString()
    {
        var text = new StringBuilder();
        Append(text);
        return text.ToString();
    }

    private void Append(StringBuilder text)
    {
        text.Append('{');
        bool first = true;
        foreach (var field in Schema.Fields)
        {
            if (!first) text.Append(", ");
            first = false;
            text.Append(field.Name).Append(": ");
            if (field.InNumberSlot)
            {
                long n = Numbers[field.Slot];
                if (field.Kind == FieldKind.Bool) text.Append(n != 0 ? "true" : "false");
                else if (field.Kind == FieldKind.Float64) text.Append(BitConverter.Int64BitsToDouble(n));
                else text.Append(n);
                continue;
            }
            AppendObject(text, Objects[field.Slot]);
        }
        text.Append('}');
    }

    private static void AppendObject(StringBuilder text, object? value)
    {
        switch (value)
        {
            case null: text.Append("null"); break;
            case string s: text.Append('"').Append(s).Append('"'); break;
            case ReadOnlyMemory<byte> m: text.Append("bytes[").Append(m.Length).Append(']'); break;
            case StructValue s: s.Append(text); break;
            case List<StructValue> list:
                text.Append('[');
                for (int i = 0; i < list.Count; i++) { if (i > 0) text.Append(", "); list[i].Append(text); }
                text.Append(']');
                break;
            case System.Array array:
                text.Append('[');
                for (int i = 0; i < array.Length; i++) { if (i > 0) text.Append(", "); AppendObject(text, array.GetValue(i)); }
                text.Append(']');
                break;
            default: text.Append(value); break;
        }
    }
}
