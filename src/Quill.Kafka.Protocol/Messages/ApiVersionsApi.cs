using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// ApiVersions (18). v1 throttle time, v3 flexible with client software name/version and tagged feature
/// fields, v4 allows feature min version 0 (KAFKA-17011). Its response always uses response header v0.
/// </summary>
public static class ApiVersionsApi
{
    public static readonly MessageSchema Request = new("ApiVersionsRequest", "0-4", "3+",
        String("ClientSoftwareName", "3+"),
        String("ClientSoftwareVersion", "3+"));

    public static readonly MessageSchema Response = new("ApiVersionsResponse", "0-4", "3+",
        Int16("ErrorCode", "0+"),
        Array("ApiKeys", "0+",
            Int16("ApiKey", "0+"),
            Int16("MinVersion", "0+"),
            Int16("MaxVersion", "0+")),
        Int32("ThrottleTimeMs", "1+"),
        Array("SupportedFeatures", "3+",
            String("Name", "3+"),
            Int16("MinVersion", "3+"),
            Int16("MaxVersion", "3+")).Tagged(0),
        Int64("FinalizedFeaturesEpoch", "3+", -1).Tagged(1),
        Array("FinalizedFeatures", "3+",
            String("Name", "3+"),
            Int16("MaxVersionLevel", "3+"),
            Int16("MinVersionLevel", "3+")).Tagged(2),
        Bool("ZkMigrationReady", "3+").Tagged(3));
}
