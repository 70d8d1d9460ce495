using Quill.Kafka.Protocol.CoordinatorRecords;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.MessageGenerator;

/// <summary>One description to generate a class for; <see cref="Key"/> is set for API requests and responses.</summary>
internal sealed record MessageSource(MessageSchema Schema, ApiKey? Key, bool IsRequest, string DescribedIn)
{
    public string ClassName => Schema.Name + "Data";
}

/// <summary>What gets generated: every API of <see cref="KafkaApis.All"/> and the coordinators' record formats.</summary>
internal static class MessageCatalog
{
    public static IReadOnlyList<MessageSource> All()
    {
        var sources = new List<MessageSource>();
        foreach (var api in KafkaApis.All)
        {
            sources.Add(new MessageSource(api.Request, api.Key, IsRequest: true, $"KafkaApis.{api.Key}"));
            sources.Add(new MessageSource(api.Response, api.Key, IsRequest: false, $"KafkaApis.{api.Key}"));
        }
        foreach (var schema in CoordinatorRecordSchemas.All)
            sources.Add(new MessageSource(schema, null, IsRequest: false, $"CoordinatorRecordSchemas.{schema.Name}"));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in sources)
            if (!names.Add(source.ClassName)) throw new InvalidOperationException($"two descriptions named {source.Schema.Name}");
        return sources;
    }
}
