using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Compat.Tests;

/// <summary>DescribeCluster (60): the cluster id, the controller and the one broker with its listener's host and port.</summary>
public sealed class DescribeClusterTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly BrokerProcess _broker = fixture.Broker;

    /// <remarks>librdkafka (2.16) answers DescribeClusterAsync from a Metadata request (v10, with the cluster's authorized
    /// operations), not from API 60, so this checks what the client shows; the raw tests below drive API 60 itself.</remarks>
    [Fact]
    public async Task Confluent_admin_describe_cluster_names_the_cluster_the_controller_and_the_broker()
    {
        using var admin = Clients.Admin(_broker.BootstrapServers);
        var cluster = await admin.DescribeClusterAsync(new DescribeClusterOptions { IncludeAuthorizedOperations = true, RequestTimeout = Clients.Timeout });

        var broker = Assert.Single(cluster.Nodes);
        Assert.Equal((0, "127.0.0.1", _broker.KafkaPort), (broker.Id, broker.Host, broker.Port));
        Assert.NotNull(cluster.Controller);
        Assert.Equal(0, cluster.Controller.Id);
        Assert.Contains(AclOperation.Describe, cluster.AuthorizedOperations);
        Assert.Contains(AclOperation.Alter, cluster.AuthorizedOperations);

        // The same cluster id as DescribeCluster (API 60) gives.
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var described = await connection.RequestAsync(KafkaApis.DescribeCluster, 1, KafkaApis.DescribeCluster.Request.New());
        Assert.False(string.IsNullOrEmpty(cluster.ClusterId));
        Assert.Equal(described.GetString("ClusterId"), cluster.ClusterId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Every_version_answers_with_the_broker_and_no_authorized_operations_unless_asked(short version)
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var response = await connection.RequestAsync(KafkaApis.DescribeCluster, version, KafkaApis.DescribeCluster.Request.New());
        Assert.Equal(0, response.GetInt16("ErrorCode"));
        Assert.Equal(0, response.GetInt32("ControllerId"));
        var broker = Assert.Single(response.GetArray("Brokers")!);
        Assert.Equal((0, "127.0.0.1", _broker.KafkaPort), (broker.GetInt32("BrokerId"), broker.GetString("Host"), broker.GetInt32("Port")));
        Assert.Equal(int.MinValue, response.GetInt32("ClusterAuthorizedOperations"));

        var asked = await connection.RequestAsync(KafkaApis.DescribeCluster, version,
            KafkaApis.DescribeCluster.Request.New().SetBool("IncludeClusterAuthorizedOperations", true));
        Assert.NotEqual(int.MinValue, asked.GetInt32("ClusterAuthorizedOperations"));
        Assert.Equal(response.GetString("ClusterId"), asked.GetString("ClusterId"));
    }

    [Fact]
    public async Task Asking_a_broker_for_controller_endpoints_is_MISMATCHED_ENDPOINT_TYPE()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var response = await connection.RequestAsync(KafkaApis.DescribeCluster, 1,
            KafkaApis.DescribeCluster.Request.New().SetInt("EndpointType", 2));
        Assert.Equal((short)KafkaError.MismatchedEndpointType, response.GetInt16("ErrorCode"));
        Assert.False(string.IsNullOrEmpty(response.GetString("ErrorMessage")));
        Assert.Empty(response.GetArray("Brokers") ?? []);
    }
}
