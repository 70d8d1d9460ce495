using System.Reflection;
using System.Text;
using Quill.Broker.Transactions;
using Quill.Kafka.Protocol.CoordinatorRecords;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Groups;

/// <summary>
/// The record descriptions the typed classes are generated from (CoordinatorRecordSchemas) must stay the ones the
/// transaction coordinator writes with, until it uses the generated classes and its private copies go (the group
/// coordinator's records are the generated classes: <see cref="OffsetsRecordsTests"/>).
/// </summary>
public class CoordinatorRecordSchemasTests
{
    [Theory]
    [InlineData(typeof(TransactionLogRecords), "Key", "TransactionLogKey")]
    [InlineData(typeof(TransactionLogRecords), "Value", "TransactionLogValue")]
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
