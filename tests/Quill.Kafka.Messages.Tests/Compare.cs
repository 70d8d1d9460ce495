using System.Collections;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Messages.Tests;

/// <summary>
/// Compares a generated-class value with a codec value field by field (by the description, not by the bytes), so a
/// reader that put a value in the wrong property would be caught even if its writer made the same mistake.
/// </summary>
internal static class Compare
{
    /// <summary>Null if the two hold the same values, else where they differ.</summary>
    public static string? Difference(object typed, StructValue value, string path = "")
    {
        var type = typed.GetType();
        foreach (var field in value.Schema.Fields)
        {
            string at = path + "." + field.Name;
            object? mine = Descriptions.Property(type, field).GetValue(typed);
            string? difference = field.IsArray ? ArrayDifference(field, mine, value.GetObject(field), at) : ValueDifference(field, mine, value, at);
            if (difference is not null) return difference;
        }
        var unknown = (List<RawTaggedField>?)type.GetProperty("UnknownTaggedFields")!.GetValue(typed) ?? [];
        var theirs = value.UnknownTaggedFields ?? [];
        if (unknown.Count != theirs.Count) return $"{path}: {unknown.Count} unknown tagged fields against {theirs.Count}";
        for (int i = 0; i < unknown.Count; i++)
            if (unknown[i].Tag != theirs[i].Tag || !unknown[i].Data.Span.SequenceEqual(theirs[i].Data.Span))
                return $"{path}: unknown tagged field {i} differs";
        return null;
    }

    private static string? ValueDifference(Field field, object? mine, StructValue value, string at)
    {
        switch (field.Kind)
        {
            case FieldKind.Bool:
                return (bool)mine! == (value.GetNumber(field) != 0) ? null : $"{at}: {mine} against {value.GetNumber(field)}";
            case FieldKind.Float64:
                return BitConverter.DoubleToInt64Bits((double)mine!) == value.GetNumber(field) ? null : $"{at}: {mine} against bits {value.GetNumber(field)}";
            case FieldKind.Int8 or FieldKind.Int16 or FieldKind.UInt16 or FieldKind.Int32 or FieldKind.UInt32 or FieldKind.Int64:
                return Convert.ToInt64(mine) == value.GetNumber(field) ? null : $"{at}: {mine} against {value.GetNumber(field)}";
            case FieldKind.Uuid:
                var uuid = value.GetObject(field) is Guid g ? g : Guid.Empty;
                return (Guid)mine! == uuid ? null : $"{at}: {mine} against {uuid}";
            case FieldKind.String:
                return (string?)mine == (string?)value.GetObject(field) ? null : $"{at}: '{mine}' against '{value.GetObject(field)}'";
            case FieldKind.Bytes:
            case FieldKind.Records:
                var theirs = (ReadOnlyMemory<byte>?)value.GetObject(field);
                var ours = (ReadOnlyMemory<byte>?)mine;
                if (ours is null || theirs is null) return ours is null && theirs is null ? null : $"{at}: null against not null";
                return ours.Value.Span.SequenceEqual(theirs.Value.Span) ? null : $"{at}: different bytes";
            case FieldKind.Struct:
                var inner = (StructValue?)value.GetObject(field);
                if (mine is null || inner is null) return mine is null && inner is null ? null : $"{at}: null against not null";
                return Difference(mine, inner, at);
            default:
                throw new InvalidOperationException(field.ToString());
        }
    }

    private static string? ArrayDifference(Field field, object? mine, object? theirs, string at)
    {
        if (mine is null || theirs is null) return mine is null && theirs is null ? null : $"{at}: null against not null";
        var ours = (IList)mine;
        var other = (IList)theirs;
        if (ours.Count != other.Count) return $"{at}: {ours.Count} elements against {other.Count}";
        for (int i = 0; i < ours.Count; i++)
        {
            if (field.Kind == FieldKind.Struct)
            {
                string? difference = Difference(ours[i]!, (StructValue)other[i]!, $"{at}[{i}]");
                if (difference is not null) return difference;
            }
            else if (!Equals(ours[i], other[i])) return $"{at}[{i}]: {ours[i]} against {other[i]}";
        }
        return null;
    }
}
