namespace Quill.Kafka.Protocol.Schema;

public sealed partial class StructValue
{
    /// <summary>Deep comparison of every field (bytes by content) and of unknown tagged fields.</summary>
    public bool ContentEquals(StructValue? other)
    {
        if (other is null || !ReferenceEquals(other.Schema, Schema)) return false;
        if (!Numbers.AsSpan().SequenceEqual(other.Numbers)) return false;
        for (int i = 0; i < Objects.Length; i++)
            if (!ObjectEquals(Objects[i], other.Objects[i])) return false;
        var mine = UnknownTaggedFields ?? [];
        var theirs = other.UnknownTaggedFields ?? [];
        if (mine.Count != theirs.Count) return false;
        for (int i = 0; i < mine.Count; i++)
            if (mine[i].Tag != theirs[i].Tag || !mine[i].Data.Span.SequenceEqual(theirs[i].Data.Span)) return false;
        return true;
    }

    private static bool ObjectEquals(object? a, object? b)
    {
        switch (a)
        {
            case null: return b is null;
            case ReadOnlyMemory<byte> x: return b is ReadOnlyMemory<byte> by && x.Span.SequenceEqual(by.Span);
            case StructValue x: return x.ContentEquals(b as StructValue);
            case List<StructValue> x:
                if (b is not List<StructValue> ly || ly.Count != x.Count) return false;
                for (int i = 0; i < x.Count; i++) if (!x[i].ContentEquals(ly[i])) return false;
                return true;
            case short[] x: return b is short[] y16 && x.AsSpan().SequenceEqual(y16);
            case int[] x: return b is int[] y32 && x.AsSpan().SequenceEqual(y32);
            case long[] x: return b is long[] y64 && x.AsSpan().SequenceEqual(y64);
            case Guid[] x: return b is Guid[] yg && x.AsSpan().SequenceEqual(yg);
            case string?[] x:
                if (b is not string?[] sy || sy.Length != x.Length) return false;
                for (int i = 0; i < x.Length; i++) if (x[i] != sy[i]) return false;
                return true;
            default: return a.Equals(b);
        }
    }

    /// <summary>
    /// Whether a field holds its default, meaning a tagged field is left off the wire (as Kafka's generated
    /// code does). Empty arrays, empty bytes and all-default structs count as default unless the default is null.
    /// </summary>
    internal bool HoldsDefault(Field field)
    {
        if (field.InNumberSlot) return Numbers[field.Slot] == field.DefaultNumber;
        object? value = Objects[field.Slot];
        if (value is null) return field.DefaultNull || field.Kind is FieldKind.Bytes or FieldKind.Records || field.IsArray;
        if (field.DefaultNull) return false;
        return value switch
        {
            string s => s.Length == 0,
            Guid g => g == Guid.Empty,
            ReadOnlyMemory<byte> m => m.Length == 0,
            List<StructValue> list => list.Count == 0,
            System.Array array => array.Length == 0,
            StructValue s => s.IsAllDefaults(),
            _ => false,
        };
    }

    private bool IsAllDefaults()
    {
        foreach (var field in Schema.Fields)
            if (!HoldsDefault(field)) return false;
        return UnknownTaggedFields is null || UnknownTaggedFields.Count == 0;
    }
}
