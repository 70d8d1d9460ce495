using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Schema;

/// <summary>
/// The one encoder/decoder for every message: it walks a <see cref="MessageSchema"/>'s precomputed plan for
/// the version at hand. Flexible versions use compact lengths and carry a tagged-field section after every
/// struct. Unknown tagged fields are preserved (<see cref="StructValue.UnknownTaggedFields"/>) and written back.
/// </summary>
public static class MessageCodec
{
    public static StructValue Decode(MessageSchema schema, short version, ReadOnlyMemory<byte> body)
    {
        var reader = new KafkaReader(body);
        return Decode(schema, version, ref reader);
    }

    public static StructValue Decode(MessageSchema schema, short version, ref KafkaReader reader)
    {
        if (!schema.ValidVersions.Contains(version))
            throw new KafkaProtocolException($"{schema.Name} has no version {version} (valid: {schema.ValidVersions})");
        try
        {
            return ReadStruct(schema.Root, version, ref reader);
        }
        catch (KafkaProtocolException e)
        {
            throw e.InMessage($"{schema.Name} v{version}");
        }
    }

    public static void Encode(MessageSchema schema, short version, StructValue value, KafkaWriter writer)
    {
        if (!schema.ValidVersions.Contains(version))
            throw new ArgumentOutOfRangeException(nameof(version), $"{schema.Name} has no version {version} (valid: {schema.ValidVersions})");
        if (!ReferenceEquals(value.Schema, schema.Root))
            throw new ArgumentException($"value is a {value.Schema.Name}, not a {schema.Name}", nameof(value));
        WriteStruct(value, version, writer);
    }

    // ---- decoding ----

    private static StructValue ReadStruct(StructSchema schema, short version, ref KafkaReader reader)
    {
        var plan = schema.Plan(version);
        var value = new StructValue(schema, initializeDefaults: false);
        foreach (var field in plan.Absent) value.SetDefault(field);
        foreach (var field in plan.Regular)
        {
            try
            {
                ReadField(field, version, plan.Flexible, value, ref reader);
            }
            catch (KafkaProtocolException e)
            {
                throw e.Within(field.Name);
            }
        }
        if (plan.Flexible) ReadTaggedFields(plan, version, value, ref reader);
        return value;
    }

    private static void ReadTaggedFields(StructPlan plan, short version, StructValue value, ref KafkaReader reader)
    {
        int start = reader.Position;
        uint count = reader.ReadUnsignedVarint();
        if (count > reader.Remaining / 2 + 1) throw KafkaProtocolException.At(start, $"{count} tagged fields cannot fit in {reader.Remaining} bytes");
        int lastTag = -1;
        for (uint i = 0; i < count; i++)
        {
            int tagAt = reader.Position;
            uint tag = reader.ReadUnsignedVarint();
            uint size = reader.ReadUnsignedVarint();
            if ((int)tag <= lastTag) throw KafkaProtocolException.At(tagAt, $"tagged field {tag} out of order after {lastTag}");
            lastTag = (int)tag;
            var data = reader.TakeMemory(size > int.MaxValue ? -1 : (int)size);
            Field? known = null;
            foreach (var field in plan.Tagged)
                if (field.Tag == tag) { known = field; break; }
            if (known is null)
            {
                (value.UnknownTaggedFields ??= []).Add(new RawTaggedField((int)tag, data));
                continue;
            }
            var inner = new KafkaReader(data);
            try
            {
                ReadField(known, version, flexible: true, value, ref inner);
            }
            catch (KafkaProtocolException e)
            {
                throw e.Within(known.Name);
            }
        }
    }

    private static void ReadField(Field field, short version, bool flexible, StructValue value, ref KafkaReader reader)
    {
        bool nullable = field.IsNullableIn(version);
        if (field.IsArray)
        {
            value.Objects[field.Slot] = ReadArray(field, version, flexible, nullable, ref reader);
            return;
        }
        switch (field.Kind)
        {
            case FieldKind.Bool: value.Numbers[field.Slot] = reader.ReadBool() ? 1 : 0; break;
            case FieldKind.Int8: value.Numbers[field.Slot] = reader.ReadInt8(); break;
            case FieldKind.Int16: value.Numbers[field.Slot] = reader.ReadInt16(); break;
            case FieldKind.UInt16: value.Numbers[field.Slot] = reader.ReadUInt16(); break;
            case FieldKind.Int32: value.Numbers[field.Slot] = reader.ReadInt32(); break;
            case FieldKind.UInt32: value.Numbers[field.Slot] = reader.ReadUInt32(); break;
            case FieldKind.Int64: value.Numbers[field.Slot] = reader.ReadInt64(); break;
            case FieldKind.Float64: value.Numbers[field.Slot] = BitConverter.DoubleToInt64Bits(reader.ReadFloat64()); break;
            case FieldKind.Uuid: value.Objects[field.Slot] = reader.ReadUuid(); break;
            case FieldKind.String: value.Objects[field.Slot] = reader.ReadString(flexible, nullable); break;
            case FieldKind.Bytes:
            case FieldKind.Records: value.Objects[field.Slot] = reader.ReadBytes(flexible, nullable); break;
            case FieldKind.Struct: value.Objects[field.Slot] = ReadStruct(field.Struct!, version, ref reader); break;
            default: throw new InvalidOperationException($"unknown field kind {field.Kind}");
        }
    }

    private static object? ReadArray(Field field, short version, bool flexible, bool nullable, ref KafkaReader reader)
    {
        int minElement = field.Kind switch
        {
            FieldKind.Struct => field.Struct!.Plan(version).MinSize,
            FieldKind.Int16 => 2,
            FieldKind.Int32 => 4,
            FieldKind.Int64 => 8,
            FieldKind.Uuid => 16,
            _ => 1,
        };
        int count = reader.ReadArrayLength(flexible, nullable, minElement);
        if (count < 0) return null;
        switch (field.Kind)
        {
            case FieldKind.Struct:
                var list = new List<StructValue>(count);
                for (int i = 0; i < count; i++)
                {
                    try
                    {
                        list.Add(ReadStruct(field.Struct!, version, ref reader));
                    }
                    catch (KafkaProtocolException e)
                    {
                        throw e.Within($"[{i}]");
                    }
                }
                return list;
            case FieldKind.Int16:
                var shorts = new short[count];
                for (int i = 0; i < count; i++) shorts[i] = reader.ReadInt16();
                return shorts;
            case FieldKind.Int32:
                var ints = new int[count];
                for (int i = 0; i < count; i++) ints[i] = reader.ReadInt32();
                return ints;
            case FieldKind.Int64:
                var longs = new long[count];
                for (int i = 0; i < count; i++) longs[i] = reader.ReadInt64();
                return longs;
            case FieldKind.String:
                var strings = new string?[count];
                for (int i = 0; i < count; i++) strings[i] = reader.ReadString(flexible, nullable: false);
                return strings;
            case FieldKind.Uuid:
                var uuids = new Guid[count];
                for (int i = 0; i < count; i++) uuids[i] = reader.ReadUuid();
                return uuids;
            default: throw new InvalidOperationException($"arrays of {field.Kind} are not supported");
        }
    }

    // ---- encoding ----

    private static void WriteStruct(StructValue value, short version, KafkaWriter writer)
    {
        var plan = value.Schema.Plan(version);
        foreach (var field in plan.Regular) WriteField(field, version, plan.Flexible, value, writer);
        if (plan.Flexible) WriteTaggedFields(plan, version, value, writer);
    }

    private static void WriteTaggedFields(StructPlan plan, short version, StructValue value, KafkaWriter writer)
    {
        var unknown = value.UnknownTaggedFields;
        int count = unknown?.Count ?? 0;
        foreach (var field in plan.Tagged)
            if (!value.HoldsDefault(field)) count++;
        writer.WriteUnsignedVarint((uint)count);
        if (count == 0) return;

        // Merge known and unknown tags in ascending order; a known tag wins over an unknown one.
        int u = 0;
        foreach (var field in plan.Tagged)
        {
            while (unknown is not null && u < unknown.Count && unknown[u].Tag < field.Tag) WriteRawTagged(unknown[u++], writer);
            if (unknown is not null && u < unknown.Count && unknown[u].Tag == field.Tag) u++;
            if (value.HoldsDefault(field)) continue;
            writer.WriteUnsignedVarint((uint)field.Tag);
            // The size prefix is a varint: write the value after a one-byte guess and widen if needed.
            int sizeAt = writer.Reserve(1);
            WriteField(field, version, flexible: true, value, writer);
            int size = writer.Length - sizeAt - 1;
            int sizeBytes = KafkaWriter.SizeOfUnsignedVarint((uint)size);
            if (sizeBytes > 1) writer.OpenGap(sizeAt + 1, sizeBytes - 1);
            WriteVarintAt(writer, sizeAt, (uint)size);
        }
        while (unknown is not null && u < unknown.Count) WriteRawTagged(unknown[u++], writer);
    }

    private static void WriteVarintAt(KafkaWriter writer, int position, uint value)
    {
        var span = writer.Slice(position, KafkaWriter.SizeOfUnsignedVarint(value));
        int i = 0;
        while (value >= 0x80) { span[i++] = (byte)(value | 0x80); value >>= 7; }
        span[i] = (byte)value;
    }

    private static void WriteRawTagged(RawTaggedField field, KafkaWriter writer)
    {
        writer.WriteUnsignedVarint((uint)field.Tag);
        writer.WriteUnsignedVarint((uint)field.Data.Length);
        writer.WriteRaw(field.Data.Span);
    }

    private static void WriteField(Field field, short version, bool flexible, StructValue value, KafkaWriter writer)
    {
        bool nullable = field.IsNullableIn(version);
        if (field.IsArray)
        {
            WriteArray(field, version, flexible, nullable, value.Objects[field.Slot], writer);
            return;
        }
        long number = field.InNumberSlot ? value.Numbers[field.Slot] : 0;
        object? obj = field.InNumberSlot ? null : value.Objects[field.Slot];
        switch (field.Kind)
        {
            case FieldKind.Bool: writer.WriteBool(number != 0); break;
            case FieldKind.Int8: writer.WriteInt8((sbyte)number); break;
            case FieldKind.Int16: writer.WriteInt16((short)number); break;
            case FieldKind.UInt16: writer.WriteUInt16((ushort)number); break;
            case FieldKind.Int32: writer.WriteInt32((int)number); break;
            case FieldKind.UInt32: writer.WriteUInt32((uint)number); break;
            case FieldKind.Int64: writer.WriteInt64(number); break;
            case FieldKind.Float64: writer.WriteFloat64(BitConverter.Int64BitsToDouble(number)); break;
            case FieldKind.Uuid: writer.WriteUuid(obj is Guid g ? g : Guid.Empty); break;
            case FieldKind.String:
                writer.WriteString(obj is null && !nullable ? "" : (string?)obj, flexible);
                break;
            case FieldKind.Bytes:
            case FieldKind.Records:
                if (obj is ReadOnlyMemory<byte> bytes) writer.WriteBytes(bytes.Span, flexible);
                else if (nullable) writer.WriteNullBytes(flexible);
                else writer.WriteBytes([], flexible);
                break;
            case FieldKind.Struct:
                WriteStruct((StructValue?)obj ?? field.Struct!.New(), version, writer);
                break;
            default: throw new InvalidOperationException($"unknown field kind {field.Kind}");
        }
    }

    private static void WriteArray(Field field, short version, bool flexible, bool nullable, object? array, KafkaWriter writer)
    {
        if (array is null)
        {
            writer.WriteArrayLength(nullable ? -1 : 0, flexible);
            return;
        }
        switch (array)
        {
            case List<StructValue> list:
                writer.WriteArrayLength(list.Count, flexible);
                foreach (var element in list)
                {
                    if (!ReferenceEquals(element.Schema, field.Struct))
                        throw new ArgumentException($"{field.Name} holds a {element.Schema.Name}, not a {field.Struct!.Name}");
                    WriteStruct(element, version, writer);
                }
                break;
            case short[] shorts:
                writer.WriteArrayLength(shorts.Length, flexible);
                foreach (var s in shorts) writer.WriteInt16(s);
                break;
            case int[] ints:
                writer.WriteArrayLength(ints.Length, flexible);
                foreach (var i in ints) writer.WriteInt32(i);
                break;
            case long[] longs:
                writer.WriteArrayLength(longs.Length, flexible);
                foreach (var l in longs) writer.WriteInt64(l);
                break;
            case string?[] strings:
                writer.WriteArrayLength(strings.Length, flexible);
                foreach (var s in strings) writer.WriteString(s ?? "", flexible);
                break;
            case Guid[] uuids:
                writer.WriteArrayLength(uuids.Length, flexible);
                foreach (var u in uuids) writer.WriteUuid(u);
                break;
            default: throw new ArgumentException($"{field.Name} holds a {array.GetType().Name}, which is not an array of {field.Kind}");
        }
    }
}
