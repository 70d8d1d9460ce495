using Quill.Broker.Handlers.Acls;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Tests.Handlers;

/// <summary>The ACL APIs without an authorizer: SECURITY_DISABLED with Kafka's message, per creation, per filter or for the whole request.</summary>
public sealed class AclHandlersTests : IDisposable
{
    private const string Message = "No Authorizer is configured on the broker";
    private readonly HandlerHarness _harness = new();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task each_acl_creation_is_refused_with_security_disabled(short version)
    {
        var response = await _harness.Send(new CreateAclsHandler(), version, body =>
        {
            body.AddElement("Creations").SetInt("ResourceType", 2).SetString("ResourceName", "t").SetString("Principal", "User:a").SetString("Host", "*");
            body.AddElement("Creations").SetInt("ResourceType", 3).SetString("ResourceName", "g").SetString("Principal", "User:b").SetString("Host", "*");
        });
        var results = response.GetArray("Results")!;
        Assert.Equal(2, results.Count);
        Assert.All(results, r =>
        {
            Assert.Equal((short)KafkaError.SecurityDisabled, r.GetInt16("ErrorCode"));
            Assert.Equal(Message, r.GetString("ErrorMessage"));
        });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task each_delete_filter_is_refused_with_security_disabled_and_matches_nothing(short version)
    {
        var response = await _harness.Send(new DeleteAclsHandler(), version, body =>
        {
            body.AddElement("Filters").SetInt("ResourceTypeFilter", 1).SetString("ResourceNameFilter", null);
            body.AddElement("Filters").SetInt("ResourceTypeFilter", 2).SetString("ResourceNameFilter", "t");
            body.AddElement("Filters").SetInt("ResourceTypeFilter", 3).SetString("ResourceNameFilter", "g");
        });
        var results = response.GetArray("FilterResults")!;
        Assert.Equal(3, results.Count);
        Assert.All(results, r =>
        {
            Assert.Equal((short)KafkaError.SecurityDisabled, r.GetInt16("ErrorCode"));
            Assert.Equal(Message, r.GetString("ErrorMessage"));
            Assert.Empty(r.GetArray("MatchingAcls")!);
        });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task describe_acls_is_refused_with_security_disabled(short version)
    {
        var response = await _harness.Send(new DescribeAclsHandler(), version, body => body.SetInt("ResourceTypeFilter", 1));
        Assert.Equal((short)KafkaError.SecurityDisabled, response.GetInt16("ErrorCode"));
        Assert.Equal(Message, response.GetString("ErrorMessage"));
        Assert.Empty(response.GetArray("Resources")!);
    }

    public void Dispose() => _harness.Dispose();
}
