using System.Text;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Protocol.Tests.Spec;

/// <summary>
/// A message description as text, one line per field, in the terms of Kafka's JSON specs: type, versions,
/// nullable versions, tag and default. Versions are the effective ones (a field's range cut to its struct's and to
/// the message's valid versions; "+" when it reaches the highest valid version), so "0+" inside a "12+" struct and
/// "0-4" in a message valid up to 4 read the same way a reader of the spec would take them.
/// </summary>
internal static class SchemaDigest
{
    public static string Of(MessageSchema schema)
    {
        var text = new StringBuilder();
        text.Append(schema.Name).Append(" v").Append(schema.ValidVersions).Append(" flexible v").Append(schema.FlexibleVersions).Append('\n');
        AppendFields(text, schema.Root, schema.ValidVersions, schema.ValidVersions.Max, "");
        return text.ToString();
    }

    private static void AppendFields(StringBuilder text, StructSchema structSchema, VersionRange parent, short max, string indent)
    {
        foreach (var field in structSchema.Fields)
        {
            var versions = field.Versions.Intersect(parent);
            text.Append(indent).Append(field.Name).Append(": ").Append(TypeOf(field)).Append(" v").Append(Render(versions, max));
            var nullable = field.NullableVersions.Intersect(versions);
            if (!nullable.IsEmpty) text.Append(" nullable v").Append(Render(nullable, max));
            if (field.Tag >= 0)
            {
                text.Append(" tag ").Append(field.Tag);
                var tagged = field.TaggedVersions.Intersect(versions);
                if (tagged != versions) text.Append(" in v").Append(Render(tagged, max));
            }
            text.Append(DefaultOf(field)).Append('\n');
            if (field.Kind == FieldKind.Struct) AppendFields(text, field.Struct!, versions, max, indent + "  ");
        }
    }

    private static string Render(VersionRange range, short max) =>
        range.IsEmpty ? "none" : range.Max >= max ? $"{range.Min}+" : range.ToString();

    private static string TypeOf(Field field)
    {
        string element = field.Kind switch
        {
            FieldKind.Struct => field.IsArray ? "" : "{}",
            FieldKind.Records => "records",
            _ => field.Kind.ToString().ToLowerInvariant(),
        };
        return field.IsArray ? "[]" + element : element;
    }

    private static string DefaultOf(Field field)
    {
        if (field.DefaultNull) return " = null";
        if (!field.InNumberSlot || field.DefaultNumber == 0) return "";
        return field.Kind == FieldKind.Bool ? " = true" : $" = {field.DefaultNumber}";
    }
}
