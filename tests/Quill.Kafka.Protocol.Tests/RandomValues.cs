using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Protocol.Tests;

/// <summary>Fills a message body with random, mostly non-default values for the fields a version carries.</summary>
internal sealed class RandomValues(int seed)
{
    private readonly Random _random = new(seed);

    public StructValue Fill(MessageSchema schema, short version)
    {
        var value = schema.New();
        FillStruct(value, version, schema.IsFlexible(version), depth: 0);
        return value;
    }

    private void FillStruct(StructValue value, short version, bool flexible, int depth)
    {
        foreach (var field in value.Schema.Fields)
        {
            if (!field.Versions.Contains(version)) continue;
            bool nullable = field.IsNullableIn(version);
            if (nullable && _random.Next(5) == 0 && !field.InNumberSlot)
            {
                value.SetObject(field, null);
                continue;
            }
            if (field.IsArray)
            {
                int count = depth > 3 ? 0 : _random.Next(0, 4);
                value.SetObject(field, field.Kind switch
                {
                    FieldKind.Struct => Enumerable.Range(0, count).Select(_ =>
                    {
                        var element = field.Struct!.New();
                        FillStruct(element, version, flexible, depth + 1);
                        return element;
                    }).ToList(),
                    FieldKind.Int16 => Enumerable.Range(0, count).Select(_ => (short)_random.Next(short.MinValue, short.MaxValue)).ToArray(),
                    FieldKind.Int32 => Enumerable.Range(0, count).Select(_ => _random.Next()).ToArray(),
                    FieldKind.Int64 => Enumerable.Range(0, count).Select(_ => _random.NextInt64()).ToArray(),
                    FieldKind.String => Enumerable.Range(0, count).Select(_ => (string?)Text()).ToArray(),
                    FieldKind.Uuid => Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToArray(),
                    _ => throw new InvalidOperationException(),
                });
                continue;
            }
            switch (field.Kind)
            {
                case FieldKind.Bool: value.SetNumber(field, field.DefaultNumber == 0 ? 1 : 0); break;
                case FieldKind.Int8: value.SetNumber(field, (sbyte)_random.Next(1, 120)); break;
                case FieldKind.Int16: value.SetNumber(field, (short)_random.Next(1, short.MaxValue)); break;
                case FieldKind.UInt16: value.SetNumber(field, (ushort)_random.Next(1, ushort.MaxValue)); break;
                case FieldKind.Int32: value.SetNumber(field, _random.Next(1, int.MaxValue) * (_random.Next(2) == 0 ? -1L : 1L)); break;
                case FieldKind.UInt32: value.SetNumber(field, (uint)_random.NextInt64(1, uint.MaxValue)); break;
                case FieldKind.Int64: value.SetNumber(field, _random.NextInt64(1, long.MaxValue)); break;
                case FieldKind.Float64: value.SetNumber(field, BitConverter.DoubleToInt64Bits(_random.NextDouble())); break;
                case FieldKind.Uuid: value.SetObject(field, Guid.NewGuid()); break;
                case FieldKind.String: value.SetObject(field, Text()); break;
                case FieldKind.Bytes:
                case FieldKind.Records: value.SetObject(field, (ReadOnlyMemory<byte>)Bytes()); break;
                case FieldKind.Struct:
                    var inner = field.Struct!.New();
                    FillStruct(inner, version, flexible, depth + 1);
                    value.SetObject(field, inner);
                    break;
            }
        }
        if (flexible && _random.Next(3) == 0)
            value.UnknownTaggedFields = [new RawTaggedField(100 + _random.Next(50), Bytes())];
    }

    private string Text()
    {
        int length = _random.Next(1, 12);
        var chars = new char[length];
        for (int i = 0; i < length; i++) chars[i] = (char)_random.Next('a', 'z' + 1);
        if (_random.Next(8) == 0) return new string(chars) + "é✓"; // multi-byte UTF-8
        return new string(chars);
    }

    private byte[] Bytes()
    {
        var bytes = new byte[_random.Next(1, 40)];
        _random.NextBytes(bytes);
        return bytes;
    }
}
