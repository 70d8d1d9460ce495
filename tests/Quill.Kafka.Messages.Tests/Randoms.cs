using System.Collections;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Messages.Tests;

/// <summary>Random values for the fields of a version: mostly not the default, sometimes null where the version allows it.</summary>
internal sealed class Randoms(int seed)
{
    private readonly Random _random = new(seed);

    // ---- codec values ----

    public StructValue FillCodec(MessageSchema schema, short version)
    {
        var value = schema.New();
        FillCodec(value, version, schema.IsFlexible(version), depth: 0);
        return value;
    }

    private void FillCodec(StructValue value, short version, bool flexible, int depth)
    {
        foreach (var field in value.Schema.Fields)
        {
            if (!field.Versions.Contains(version)) continue;
            // Tagged fields stay at their default now and then, so that leaving them off the wire is covered too.
            if (field.IsTaggedIn(version) && _random.Next(4) == 0) continue;
            if (field.IsNullableIn(version) && !IsNumber(field) && _random.Next(5) == 0)
            {
                value.SetObject(field, null);
                continue;
            }
            if (field.IsArray)
            {
                int count = Count(depth);
                value.SetObject(field, field.Kind switch
                {
                    FieldKind.Struct => Enumerable.Range(0, count).Select(_ =>
                    {
                        var element = field.Struct!.New();
                        FillCodec(element, version, flexible, depth + 1);
                        return element;
                    }).ToList(),
                    FieldKind.Int16 => Enumerable.Range(0, count).Select(_ => Int16()).ToArray(),
                    FieldKind.Int32 => Enumerable.Range(0, count).Select(_ => Int32()).ToArray(),
                    FieldKind.Int64 => Enumerable.Range(0, count).Select(_ => Int64()).ToArray(),
                    FieldKind.String => Enumerable.Range(0, count).Select(_ => (string?)Text()).ToArray(),
                    FieldKind.Uuid => Enumerable.Range(0, count).Select(_ => Uuid()).ToArray(),
                    _ => throw new InvalidOperationException(field.ToString()),
                });
                continue;
            }
            if (IsNumber(field))
            {
                value.SetNumber(field, Number(field));
                continue;
            }
            switch (field.Kind)
            {
                case FieldKind.Uuid: value.SetObject(field, Uuid()); break;
                case FieldKind.String: value.SetObject(field, Text()); break;
                case FieldKind.Bytes:
                case FieldKind.Records: value.SetObject(field, (ReadOnlyMemory<byte>)Bytes()); break;
                case FieldKind.Struct:
                    var inner = field.Struct!.New();
                    FillCodec(inner, version, flexible, depth + 1);
                    value.SetObject(field, inner);
                    break;
            }
        }
        if (flexible && _random.Next(3) == 0) value.UnknownTaggedFields = UnknownTaggedFields(value.Schema, version);
    }

    // ---- generated-class values ----

    /// <summary>
    /// A generated class filled for a version. With <paramref name="alsoAbsent"/>, fields the version does not carry get
    /// values too (writing must leave them out, as the codec does).
    /// </summary>
    public object FillTyped(MessageSchema schema, short version, bool alsoAbsent)
    {
        var value = Activator.CreateInstance(Descriptions.ClassOf(schema))!;
        FillTyped(value, schema.Root, version, schema.IsFlexible(version), alsoAbsent, depth: 0);
        return value;
    }

    private void FillTyped(object value, StructSchema schema, short version, bool flexible, bool alsoAbsent, int depth)
    {
        var type = value.GetType();
        foreach (var field in schema.Fields)
        {
            bool present = field.Versions.Contains(version);
            if (!present && !(alsoAbsent && _random.Next(3) == 0)) continue;
            if (present && field.IsTaggedIn(version) && _random.Next(4) == 0) continue;
            var property = Descriptions.Property(type, field);
            bool canBeNull = present ? field.IsNullableIn(version) : !property.PropertyType.IsValueType || Nullable.GetUnderlyingType(property.PropertyType) is not null;
            if (canBeNull && !IsNumber(field) && _random.Next(5) == 0 && (!property.PropertyType.IsValueType || Nullable.GetUnderlyingType(property.PropertyType) is not null))
            {
                property.SetValue(value, null);
                continue;
            }
            if (field.IsArray)
            {
                var list = (IList)Activator.CreateInstance(property.PropertyType)!;
                var elementType = property.PropertyType.GetGenericArguments()[0];
                int count = Count(depth);
                for (int i = 0; i < count; i++)
                {
                    object element = field.Kind switch
                    {
                        FieldKind.Struct => Activator.CreateInstance(elementType)!,
                        FieldKind.Int16 => Int16(),
                        FieldKind.Int32 => Int32(),
                        FieldKind.Int64 => Int64(),
                        FieldKind.String => Text(),
                        FieldKind.Uuid => Uuid(),
                        _ => throw new InvalidOperationException(field.ToString()),
                    };
                    if (field.Kind == FieldKind.Struct) FillTyped(element, field.Struct!, version, flexible, alsoAbsent, depth + 1);
                    list.Add(element);
                }
                property.SetValue(value, list);
                continue;
            }
            object? typed = field.Kind switch
            {
                FieldKind.Bool => Number(field) != 0,
                FieldKind.Int8 => (sbyte)Number(field),
                FieldKind.Int16 => (short)Number(field),
                FieldKind.UInt16 => (ushort)Number(field),
                FieldKind.Int32 => (int)Number(field),
                FieldKind.UInt32 => (uint)Number(field),
                FieldKind.Int64 => Number(field),
                FieldKind.Float64 => BitConverter.Int64BitsToDouble(Number(field)),
                FieldKind.Uuid => Uuid(),
                FieldKind.String => Text(),
                FieldKind.Bytes or FieldKind.Records => (ReadOnlyMemory<byte>)Bytes(),
                FieldKind.Struct => Activator.CreateInstance(property.PropertyType)!,
                _ => throw new InvalidOperationException(field.ToString()),
            };
            if (field.Kind == FieldKind.Struct) FillTyped(typed!, field.Struct!, version, flexible, alsoAbsent, depth + 1);
            property.SetValue(value, typed);
        }
        if (flexible && _random.Next(3) == 0) type.GetProperty("UnknownTaggedFields")!.SetValue(value, UnknownTaggedFields(schema, version));
    }

    // ---- values ----

    private static bool IsNumber(Field field) => !field.IsArray && field.Kind <= FieldKind.Float64;

    private int Count(int depth) => depth > 3 ? 0 : _random.Next(0, 4);

    /// <summary>A number for a scalar field, in the bits the codec keeps (bools 0/1, doubles as their bits).</summary>
    private long Number(Field field) => field.Kind switch
    {
        FieldKind.Bool => field.DefaultNumber == 0 ? 1 : 0,
        FieldKind.Int8 => (sbyte)_random.Next(sbyte.MinValue, sbyte.MaxValue + 1),
        FieldKind.Int16 => Int16(),
        FieldKind.UInt16 => (ushort)_random.Next(1, ushort.MaxValue + 1),
        FieldKind.Int32 => Int32(),
        FieldKind.UInt32 => (uint)_random.NextInt64(1, (long)uint.MaxValue + 1),
        FieldKind.Int64 => Int64(),
        FieldKind.Float64 => BitConverter.DoubleToInt64Bits(_random.NextDouble() * 1e6 - 5e5),
        _ => throw new InvalidOperationException(field.ToString()),
    };

    private short Int16() => (short)_random.Next(short.MinValue, short.MaxValue + 1);
    private int Int32() => _random.Next(4) == 0 ? -1 : (int)_random.NextInt64(int.MinValue, (long)int.MaxValue + 1);
    private long Int64() => _random.Next(4) == 0 ? -1 : _random.NextInt64(long.MinValue, long.MaxValue);
    private Guid Uuid() => new(Bytes(16));

    private string Text()
    {
        int length = _random.Next(0, 12);
        var chars = new char[length];
        for (int i = 0; i < length; i++) chars[i] = (char)_random.Next('a', 'z' + 1);
        return _random.Next(8) == 0 ? new string(chars) + "é✓" : new string(chars); // multi-byte UTF-8 now and then
    }

    private byte[] Bytes(int? length = null)
    {
        // Sometimes longer than 127 bytes, so that a tagged field's size takes two varint bytes.
        var bytes = new byte[length ?? (_random.Next(6) == 0 ? _random.Next(120, 300) : _random.Next(0, 40))];
        _random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Tags the version does not know, in order, some between the known ones (0, 1, 2, ...).</summary>
    private List<RawTaggedField> UnknownTaggedFields(StructSchema schema, short version)
    {
        var known = schema.Fields.Where(f => f.Versions.Contains(version) && f.IsTaggedIn(version)).Select(f => f.Tag).ToHashSet();
        var fields = new List<RawTaggedField>();
        int tag = _random.Next(6);
        for (int i = _random.Next(1, 4); i > 0; i--)
        {
            while (known.Contains(tag)) tag++;
            fields.Add(new RawTaggedField(tag, Bytes()));
            tag += 1 + _random.Next(3) * _random.Next(60);
        }
        return fields;
    }
}
