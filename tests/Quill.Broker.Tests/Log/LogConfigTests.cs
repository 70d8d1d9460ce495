using Quill.Broker.Log;

namespace Quill.Broker.Tests.Log;

public sealed class LogConfigTests
{
    [Fact]
    public void Kafka_topic_config_names_map_onto_the_log_config_and_back()
    {
        var config = LogConfigProperties.Apply(LogConfig.Default, new Dictionary<string, string?>
        {
            ["segment.bytes"] = "1048576",
            ["retention.ms"] = "-1",
            ["cleanup.policy"] = "compact,delete",
            ["message.timestamp.type"] = "LogAppendTime",
            ["flush.messages"] = "1",
            ["some.other.setting"] = "ignored",
        });
        Assert.Equal(1048576, config.SegmentBytes);
        Assert.Equal(-1, config.RetentionMs);
        Assert.Equal(CleanupPolicy.Compact | CleanupPolicy.Delete, config.CleanupPolicy);
        Assert.True(config.LogAppendTime);
        Assert.Equal(1, config.FlushMessages);

        var properties = LogConfigProperties.ToProperties(config);
        Assert.Equal("delete,compact", properties["cleanup.policy"]);
        Assert.Equal(config, LogConfigProperties.Apply(LogConfig.Default, properties.Select(p => KeyValuePair.Create(p.Key, (string?)p.Value))));
        Assert.Equal("604800000", LogConfigProperties.ToProperties(LogConfig.Default)["retention.ms"]);
    }

    [Theory]
    [InlineData("segment.bytes", "lots")]
    [InlineData("segment.bytes", "10")]
    [InlineData("cleanup.policy", "forever")]
    [InlineData("message.timestamp.type", "Now")]
    [InlineData("flush.messages", "0")]
    public void Bad_values_are_rejected(string name, string value)
    {
        Assert.Throws<ArgumentException>(() => LogConfigProperties.Apply(LogConfig.Default, [KeyValuePair.Create(name, (string?)value)]));
    }
}
