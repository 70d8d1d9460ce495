using Quill.Broker.Config;
using Quill.Broker.Handlers;
using Quill.Broker.Metadata;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// The config APIs' answers that need neither the controller nor the dynamic broker config, in every version:
/// resources that cannot be described or changed here, refused operations and values, and validate-only changes
/// (no error, and the spec's default message "", where a stored change answers the controller's).
/// </summary>
public sealed class ConfigHandlersTests : IDisposable
{
    private const sbyte Topic = 2, Broker = 4, BrokerLogger = 8;
    private readonly HandlerHarness _harness = new();

    public ConfigHandlersTests() =>
        _harness.Services.Metadata.Put(new TopicInfo("t", Guid.NewGuid(), [new PartitionInfo(0, [0], new PartitionState(0, 0, [0], 0))],
            new Dictionary<string, string> { ["retention.ms"] = "5000" }));

    public static TheoryData<short, sbyte, string, KafkaError, string> DescribeRefusals()
    {
        var data = new TheoryData<short, sbyte, string, KafkaError, string>();
        for (short v = 0; v <= 4; v++)
        {
            data.Add(v, Topic, "missing", KafkaError.UnknownTopicOrPartition, "Topic 'missing' does not exist.");
            data.Add(v, Topic, "bad name", KafkaError.InvalidTopicException, "Topic 'bad name' does not exist.");
            data.Add(v, Broker, "7", KafkaError.InvalidRequest, "Unexpected broker id, expected 0 but received 7");
            data.Add(v, 99, "x", KafkaError.InvalidRequest, "Unsupported resource type 99");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(DescribeRefusals))]
    public async Task describe_configs_refuses_unknown_resources_with_kafkas_error_and_message(short version, sbyte type, string name, KafkaError error, string message)
    {
        var response = await _harness.Send(new DescribeConfigsHandler(_harness.Services), version, body =>
            body.AddElement("Resources").SetInt("ResourceType", type).SetString("ResourceName", name).SetStringArray("ConfigurationKeys", null));
        var result = Assert.Single(response.GetArray("Results")!);
        Assert.Equal(type, result.GetInt8("ResourceType"));
        Assert.Equal(name, result.GetString("ResourceName"));
        Assert.Equal((short)error, result.GetInt16("ErrorCode"));
        Assert.Equal(message, result.GetString("ErrorMessage"));
        Assert.Empty(result.GetArray("Configs")!);
    }

    public static TheoryData<sbyte, string, KafkaError, string> ChangeRefusals => new()
    {
        { Topic, "missing", KafkaError.UnknownTopicOrPartition, "Topic missing does not exist." },
        { Broker, "7", KafkaError.InvalidRequest, "Unexpected broker id, expected 0 or empty string, but received 7" },
        { BrokerLogger, "0", KafkaError.InvalidRequest, "Changing broker log levels at runtime is not supported; set them in the logging configuration." },
        { 99, "x", KafkaError.InvalidRequest, "Unsupported resource type 99" },
    };

    [Theory]
    [MemberData(nameof(ChangeRefusals))]
    public async Task alter_configs_refuses_resources_it_cannot_change_with_kafkas_error_and_message(sbyte type, string name, KafkaError error, string message)
    {
        for (short version = 0; version <= 2; version++)
        {
            var result = await Alter(version, type, name, ("retention.ms", "1000"));
            Assert.Equal((short)error, result.GetInt16("ErrorCode"));
            Assert.Equal(message, result.GetString("ErrorMessage"));
        }
    }

    [Theory]
    [MemberData(nameof(ChangeRefusals))]
    public async Task incremental_alter_configs_refuses_resources_it_cannot_change_with_kafkas_error_and_message(sbyte type, string name, KafkaError error, string message)
    {
        for (short version = 0; version <= 1; version++)
        {
            var result = await AlterIncrementally(version, type, name, ("retention.ms", 0, "1000"));
            Assert.Equal((short)error, result.GetInt16("ErrorCode"));
            Assert.Equal(message, result.GetString("ErrorMessage"));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task alter_configs_validates_the_whole_set_of_values(short version)
    {
        var ok = await Alter(version, Topic, "t", ("retention.ms", "1000"), ("cleanup.policy", null));
        Assert.Equal(0, ok.GetInt16("ErrorCode"));
        Assert.Equal("", ok.GetString("ErrorMessage"));

        var bad = await Alter(version, Topic, "t", ("retention.ms", "soon"));
        Assert.Equal((short)KafkaError.InvalidConfig, bad.GetInt16("ErrorCode"));
        Assert.Equal(TopicConfigs.Validate("retention.ms", "soon"), bad.GetString("ErrorMessage"));

        var unknown = await Alter(version, Topic, "t", ("no.such.config", "1"));
        Assert.Equal((short)KafkaError.InvalidConfig, unknown.GetInt16("ErrorCode"));
        Assert.Equal("Unknown topic config name: no.such.config", unknown.GetString("ErrorMessage"));
    }

    public static TheoryData<short, string, sbyte, string?, string?> Operations()
    {
        var data = new TheoryData<short, string, sbyte, string?, string?>();
        for (short v = 0; v <= 1; v++)
        {
            data.Add(v, "retention.ms", 0, "1000", null);
            data.Add(v, "retention.ms", 1, null, null);
            data.Add(v, "cleanup.policy", 2, "compact", null);
            data.Add(v, "cleanup.policy", 3, "compact", null);
            data.Add(v, "cleanup.policy", 3, "delete", TopicConfigs.Validate("cleanup.policy", "")); // nothing left
            data.Add(v, "retention.ms", 0, null, "Invalid operation or null value for config key: retention.ms");
            data.Add(v, "retention.ms", 2, "1", "Config value append is not allowed for config key: retention.ms");
            data.Add(v, "retention.ms", 7, "1", "Invalid operation 7 for config key: retention.ms");
            data.Add(v, "no.such.config", 1, null, "Unknown topic config name: no.such.config");
            data.Add(v, "retention.ms", 0, "soon", TopicConfigs.Validate("retention.ms", "soon"));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task incremental_operations_are_validated_per_key(short version, string key, sbyte operation, string? value, string? problem)
    {
        var result = await AlterIncrementally(version, Topic, "t", (key, operation, value));
        Assert.Equal((short)(problem is null ? KafkaError.None : KafkaError.InvalidConfig), result.GetInt16("ErrorCode"));
        Assert.Equal(problem ?? "", result.GetString("ErrorMessage"));
    }

    private async Task<StructValue> Alter(short version, sbyte type, string name, params (string Key, string? Value)[] configs)
    {
        var response = await _harness.Send(new AlterConfigsHandler(_harness.Services), version, body =>
        {
            body.SetBool("ValidateOnly", true);
            var resource = body.AddElement("Resources").SetInt("ResourceType", type).SetString("ResourceName", name);
            foreach (var (key, value) in configs) resource.AddElement("Configs").SetString("Name", key).SetString("Value", value);
        });
        return Echoed(response, type, name);
    }

    private async Task<StructValue> AlterIncrementally(short version, sbyte type, string name, params (string Key, sbyte Operation, string? Value)[] configs)
    {
        var response = await _harness.Send(new IncrementalAlterConfigsHandler(_harness.Services), version, body =>
        {
            body.SetBool("ValidateOnly", true);
            var resource = body.AddElement("Resources").SetInt("ResourceType", type).SetString("ResourceName", name);
            foreach (var (key, operation, value) in configs)
                resource.AddElement("Configs").SetString("Name", key).SetInt("ConfigOperation", operation).SetString("Value", value);
        });
        return Echoed(response, type, name);
    }

    private static StructValue Echoed(StructValue response, sbyte type, string name)
    {
        var result = Assert.Single(response.GetArray("Responses")!);
        Assert.Equal(type, result.GetInt8("ResourceType"));
        Assert.Equal(name, result.GetString("ResourceName"));
        return result;
    }

    public void Dispose() => _harness.Dispose();
}
