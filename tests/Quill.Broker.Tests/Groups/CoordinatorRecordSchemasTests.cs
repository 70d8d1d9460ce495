using System.Reflection;
using System.Text;
using Quill.Broker.Groups;
using Quill.Kafka.Protocol.CoordinatorRecords;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Groups;

/// <summary>
/// The record descriptions the typed classes are generated from (CoordinatorRecordSchemas) must stay the ones the
/// coordinators write with, until the coordinators use the generated classes and their private copies go.
/// </summary>
public class CoordinatorRecordSchemasTests
{
    [Theory]
    [InlineData(typeof(OffsetsRecords), "OffsetCommitKey", "OffsetCommitKey")]
    [InlineData(typeof(OffsetsRecords), "GroupMetadataKey", "GroupMetadataKey")]
    [InlineData(typeof(OffsetsRecords), "OffsetCommitValue", "OffsetCommitValue")]
    [InlineData(typeof(OffsetsRecords), "GroupMetadataValue", "GroupMetadataValue")]
    public void ThePublicDescriptionIsTheOneTheCoordinatorUses(Type owner, string privateField, string publicName)
    {
        var used = (MessageSchema)owner.GetField(privateField, BindingFlags.NonPublic | BindingFlags.Static)!.GetValue(null)!;
        var published = CoordinatorRecordSchemas.All.Single(s => s.Name == publicName);
        Assert.Equal(Digest(used), Digest(published));
    }

    private static string Digest(MessageSchema schema)
    {
        var text = new StringBuilder($"{schema.Name} v{schema.ValidVersions} flexible v{schema.FlexibleVersions}\n");
        Append(text, schema.Root, "");
        return text.ToString();
    }

    private static void Append(StringBuilder text, StructSchema schema, string indent)
    {
        foreach (var f in schema.Fields)
        {
            text.Append($"{indent}{f.Name} {(f.IsArray ? "[]" : "")}{f.Kind} v{f.Versions} nullable v{f.NullableVersions} tag {f.Tag} v{f.TaggedVersions} default {f.DefaultNumber}{(f.DefaultNull ? " null" : "")}\n");
            if (f.Struct is not null) Append(text, f.Struct, indent + "  ");
        }
    }
}
