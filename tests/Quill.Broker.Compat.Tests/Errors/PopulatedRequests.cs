using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Compat.Tests.Errors;

/// <summary>
/// Requests with every field of a version set (in the interpreting codec's form) and one element in every array, so
/// that an error response which mirrors the request has something to mirror at each level. Numbers count up from 1
/// (never 0: acks=0 would ask for no answer), strings are the field's name and that count, so each value is unique.
/// </summary>
public static class PopulatedRequests
{
    public static readonly Guid TopicId = Guid.Parse("6b0d1c2e-9f3a-4e55-8a7b-0c1d2e3f4a5b");

    public static StructValue New(MessageSchema schema, short version)
    {
        var value = schema.New();
        int next = 0;
        Fill(value, version, ref next);
        return value;
    }

    private static void Fill(StructValue value, short version, ref int next)
    {
        foreach (var field in value.Schema.Fields)
        {
            if (!field.Versions.Contains(version)) continue;
            int n = ++next;
            if (field.IsArray)
            {
                value.SetObject(field, field.Kind switch
                {
                    FieldKind.Struct => (object)new List<StructValue> { Filled(field.Struct!, version, ref next) },
                    FieldKind.Int16 => new[] { (short)n },
                    FieldKind.Int32 => new[] { n },
                    FieldKind.Int64 => new[] { (long)n },
                    FieldKind.String => new string?[] { $"{field.Name}-{n}" },
                    FieldKind.Uuid => new[] { TopicId },
                    _ => throw new InvalidOperationException($"no populated value for {field}"),
                });
                continue;
            }
            switch (field.Kind)
            {
                case FieldKind.Bool: value.SetNumber(field, 0); break;
                case FieldKind.Float64: value.SetNumber(field, 0); break;
                case FieldKind.Int8: value.SetNumber(field, n % 100); break;
                case FieldKind.Int16 or FieldKind.UInt16 or FieldKind.Int32 or FieldKind.UInt32 or FieldKind.Int64: value.SetNumber(field, n); break;
                case FieldKind.Uuid: value.SetObject(field, TopicId); break;
                case FieldKind.String: value.SetObject(field, $"{field.Name}-{n}"); break;
                case FieldKind.Bytes or FieldKind.Records: value.SetObject(field, (ReadOnlyMemory<byte>?)new byte[] { 1, 2, 3 }); break;
                case FieldKind.Struct: Fill((StructValue)value.GetObject(field)!, version, ref next); break;
            }
        }
    }

    private static StructValue Filled(StructSchema schema, short version, ref int next)
    {
        var element = schema.New();
        Fill(element, version, ref next);
        return element;
    }

    /// <summary>Every error code the value carries in <paramref name="version"/> (fields named *ErrorCode), at any depth, with its path.</summary>
    public static List<(string Path, short Code)> ErrorCodes(StructValue value, short version, string path = "")
    {
        var found = new List<(string, short)>();
        foreach (var field in value.Schema.Fields)
        {
            if (!field.Versions.Contains(version)) continue;
            string at = path + "/" + field.Name;
            if (field.Kind == FieldKind.Int16 && !field.IsArray && field.Name.EndsWith("ErrorCode", StringComparison.Ordinal))
                found.Add((at, (short)value.GetNumber(field)));
            else if (field.Kind == FieldKind.Struct && !field.IsArray && value.GetObject(field) is StructValue inner)
                found.AddRange(ErrorCodes(inner, version, at));
            else if (field.Kind == FieldKind.Struct && field.IsArray && value.GetObject(field) is List<StructValue> elements)
                for (int i = 0; i < elements.Count; i++) found.AddRange(ErrorCodes(elements[i], version, $"{at}[{i}]"));
        }
        return found;
    }
}
