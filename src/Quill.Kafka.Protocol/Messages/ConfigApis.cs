using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>DescribeConfigs (32): v1 synonyms and config source, v3 config type and documentation, v4 flexible.</summary>
public static class DescribeConfigsApi
{
    public static readonly MessageSchema Request = new("DescribeConfigsRequest", "0-4", "4+",
        Array("Resources", "0+",
            Int8("ResourceType", "0+"),
            String("ResourceName", "0+"),
            StringArray("ConfigurationKeys", "0+").Nullable("0+")),
        Bool("IncludeSynonyms", "1+"),
        Bool("IncludeDocumentation", "3+"));

    public static readonly MessageSchema Response = new("DescribeConfigsResponse", "0-4", "4+",
        Int32("ThrottleTimeMs", "0+"),
        Array("Results", "0+",
            Int16("ErrorCode", "0+"),
            String("ErrorMessage", "0+").Nullable("0+"),
            Int8("ResourceType", "0+"),
            String("ResourceName", "0+"),
            Array("Configs", "0+",
                String("Name", "0+"),
                String("Value", "0+").Nullable("0+"),
                Bool("ReadOnly", "0+"),
                Bool("IsDefault", "0"),
                Int8("ConfigSource", "1+", -1),
                Bool("IsSensitive", "0+"),
                Array("Synonyms", "1+",
                    String("Name", "1+"),
                    String("Value", "1+").Nullable("1+"),
                    Int8("Source", "1+")),
                Int8("ConfigType", "3+"),
                String("Documentation", "3+").Nullable("3+"))));
}

/// <summary>AlterConfigs (33): v2 flexible.</summary>
public static class AlterConfigsApi
{
    public static readonly MessageSchema Request = new("AlterConfigsRequest", "0-2", "2+",
        Array("Resources", "0+",
            Int8("ResourceType", "0+"),
            String("ResourceName", "0+"),
            Array("Configs", "0+",
                String("Name", "0+"),
                String("Value", "0+").Nullable("0+"))),
        Bool("ValidateOnly", "0+"));

    public static readonly MessageSchema Response = new("AlterConfigsResponse", "0-2", "2+",
        Int32("ThrottleTimeMs", "0+"),
        Array("Responses", "0+",
            Int16("ErrorCode", "0+"),
            String("ErrorMessage", "0+").Nullable("0+"),
            Int8("ResourceType", "0+"),
            String("ResourceName", "0+")));
}

/// <summary>IncrementalAlterConfigs (44): v1 flexible. Operations: 0 set, 1 delete, 2 append, 3 subtract.</summary>
public static class IncrementalAlterConfigsApi
{
    public static readonly MessageSchema Request = new("IncrementalAlterConfigsRequest", "0-1", "1+",
        Array("Resources", "0+",
            Int8("ResourceType", "0+"),
            String("ResourceName", "0+"),
            Array("Configs", "0+",
                String("Name", "0+"),
                Int8("ConfigOperation", "0+"),
                String("Value", "0+").Nullable("0+"))),
        Bool("ValidateOnly", "0+"));

    public static readonly MessageSchema Response = new("IncrementalAlterConfigsResponse", "0-1", "1+",
        Int32("ThrottleTimeMs", "0+"),
        Array("Responses", "0+",
            Int16("ErrorCode", "0+"),
            String("ErrorMessage", "0+").Nullable("0+"),
            Int8("ResourceType", "0+"),
            String("ResourceName", "0+")));
}
