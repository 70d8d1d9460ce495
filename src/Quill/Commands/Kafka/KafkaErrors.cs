using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Commands.Kafka;

/// <summary>One line per failure, naming Kafka's error code as the scripts do (e.g. TOPIC_ALREADY_EXISTS).</summary>
public static class KafkaErrors
{
    public static string Describe(KafkaException e) => e switch
    {
        CreateTopicsException c => Join(c.Results.Where(r => r.Error.IsError).Select(r => $"topic '{r.Topic}': {Describe(r.Error)}")),
        DeleteTopicsException d => Join(d.Results.Where(r => r.Error.IsError).Select(r => $"topic '{r.Topic}': {Describe(r.Error)}")),
        CreatePartitionsException p => Join(p.Results.Where(r => r.Error.IsError).Select(r => $"topic '{r.Topic}': {Describe(r.Error)}")),
        DescribeConfigsException d => Join(d.Results.Where(r => r.Error.IsError).Select(r => $"{r.ConfigResource}: {Describe(r.Error)}")),
        IncrementalAlterConfigsException a => Join(a.Results.Where(r => r.Error.IsError).Select(r => $"{r.ConfigResource}: {Describe(r.Error)}")),
        DeleteGroupsException g => Join(g.Results.Where(r => r.Error.IsError).Select(r => $"group '{r.Group}': {Describe(r.Error)}")),
        _ => Describe(e.Error),
    };

    public static string Describe(Error error) => $"{error.Reason} ({CodeName(error.Code)})";

    /// <summary>Kafka's spelling of an error code: TopicAlreadyExists -> TOPIC_ALREADY_EXISTS; local ones keep "Local_".</summary>
    public static string CodeName(ErrorCode code)
    {
        string name = code.ToString();
        if (name.StartsWith("Local_", StringComparison.Ordinal)) return name;
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && !char.IsUpper(name[i - 1])) sb.Append('_');
            sb.Append(char.ToUpperInvariant(name[i]));
        }
        return sb.ToString();
    }

    private static string Join(IEnumerable<string> lines) => string.Join("; ", lines);
}
