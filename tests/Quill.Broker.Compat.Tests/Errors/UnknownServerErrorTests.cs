using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Compat.Tests.Errors;

/// <summary>
/// A handler failing with an exception it did not expect: Kafka logs it and answers the request's error response
/// (UNKNOWN_SERVER_ERROR, -1, wherever the response carries an error, the request's topics, partitions and groups
/// mirrored) and keeps the connection. Here every API's handler fails, and each answer is read by the interpreting
/// codec (the spec's oracle) in every version, all on one connection.
/// </summary>
public sealed class UnknownServerErrorTests : IAsyncLifetime
{
    private const short Unknown = (short)KafkaError.UnknownServerError;
    private InProcessBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await InProcessBroker.StartAsync([FailingHandlers.All]);

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Every_api_answers_unknown_server_error_in_its_shape_in_every_version_on_one_connection()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        int answered = 0;
        foreach (var api in KafkaApis.All.Where(a => a.Key != ApiKey.ApiVersions))
        {
            for (short version = api.MinVersion; version <= api.MaxVersion; version++)
            {
                var request = PopulatedRequests.New(api.Request, version);
                // RequestAsync fails if the broker closes the connection instead of answering.
                var response = await connection.RequestAsync(api, version, request);
                string at = $"{api.Key} v{version}";

                var codes = PopulatedRequests.ErrorCodes(response, version);
                Assert.All(codes, c => Assert.True(c.Code == Unknown, $"{at}: {c.Path} is {c.Code}"));
                // Kafka's DescribeLogDirs error response names no dirs, and before v3 there is no top-level error.
                if (!(api.Key == ApiKey.DescribeLogDirs && version < 3))
                    Assert.True(codes.Count > 0, $"{at}: no error code in {response}");
                if (Shapes.TryGetValue(api.Key, out var shape)) shape(request, response, version);
                answered++;
            }
        }
        Assert.Equal(KafkaApis.All.Where(a => a.Key != ApiKey.ApiVersions).Sum(a => a.MaxVersion - a.MinVersion + 1), answered);
    }

    /// <summary>What the clients of each API read besides the error codes: the request's keys back, and no offsets.</summary>
    private static readonly Dictionary<ApiKey, Action<StructValue, StructValue, short>> Shapes = new()
    {
        [ApiKey.Produce] = (request, response, version) =>
        {
            var topic = Assert.Single(response.GetArray("Responses")!);
            Assert.Equal(request.GetArray("TopicData")![0].GetString("Name"), topic.GetString("Name"));
            var partition = Assert.Single(topic.GetArray("PartitionResponses")!);
            Assert.Equal(request.GetArray("TopicData")![0].GetArray("PartitionData")![0].GetInt32("Index"), partition.GetInt32("Index"));
            Assert.Equal(-1, partition.GetInt64("BaseOffset"));
        },
        [ApiKey.Fetch] = (request, response, version) =>
        {
            if (version >= 7) Assert.Equal(Unknown, response.GetInt16("ErrorCode"));
            var topic = Assert.Single(response.GetArray("Responses")!);
            var requested = request.GetArray("Topics")![0];
            if (version < 13) Assert.Equal(requested.GetString("Topic"), topic.GetString("Topic"));
            else Assert.Equal(requested.GetUuid("TopicId"), topic.GetUuid("TopicId"));
            var partition = Assert.Single(topic.GetArray("Partitions")!);
            Assert.Equal(requested.GetArray("Partitions")![0].GetInt32("Partition"), partition.GetInt32("PartitionIndex"));
            Assert.Equal(Unknown, partition.GetInt16("ErrorCode"));
            Assert.Equal(-1, partition.GetInt64("HighWatermark"));
        },
        [ApiKey.Metadata] = (request, response, version) =>
        {
            var topic = Assert.Single(response.GetArray("Topics")!);
            Assert.Equal(request.GetArray("Topics")![0].GetString("Name"), topic.GetString("Name"));
            Assert.Equal(Unknown, topic.GetInt16("ErrorCode"));
            Assert.Empty(topic.GetArray("Partitions")!);
        },
        [ApiKey.ListOffsets] = (request, response, version) =>
        {
            var partition = Assert.Single(Assert.Single(response.GetArray("Topics")!).GetArray("Partitions")!);
            Assert.Equal(request.GetArray("Topics")![0].GetArray("Partitions")![0].GetInt32("PartitionIndex"), partition.GetInt32("PartitionIndex"));
            if (version >= 1) Assert.Equal(-1, partition.GetInt64("Offset"));
        },
        [ApiKey.OffsetFetch] = (request, response, version) =>
        {
            if (version < 8)
            {
                var partition = Assert.Single(Assert.Single(response.GetArray("Topics")!).GetArray("Partitions")!);
                Assert.Equal(request.GetArray("Topics")![0].GetInt32Array("PartitionIndexes")![0], partition.GetInt32("PartitionIndex"));
                Assert.Equal(-1, partition.GetInt64("CommittedOffset"));
            }
            else
            {
                Assert.Equal(request.GetArray("Groups")![0].GetString("GroupId"), Assert.Single(response.GetArray("Groups")!).GetString("GroupId"));
            }
        },
        [ApiKey.FindCoordinator] = (request, response, version) =>
        {
            if (version < 4) Assert.Equal(-1, response.GetInt32("NodeId"));
            else Assert.Equal(request.GetStringArray("CoordinatorKeys")![0], Assert.Single(response.GetArray("Coordinators")!).GetString("Key"));
        },
        [ApiKey.JoinGroup] = (request, response, version) =>
        {
            Assert.Equal(-1, response.GetInt32("GenerationId"));
            Assert.Equal("", response.GetString("MemberId"));
        },
        [ApiKey.DescribeGroups] = (request, response, version) =>
            Assert.Equal(request.GetStringArray("Groups")![0], Assert.Single(response.GetArray("Groups")!).GetString("GroupId")),
        [ApiKey.DeleteTopics] = (request, response, version) =>
        {
            var topic = Assert.Single(response.GetArray("Responses")!);
            if (version < 6) Assert.Equal(request.GetStringArray("TopicNames")![0], topic.GetString("Name"));
            else Assert.Equal(request.GetArray("Topics")![0].GetUuid("TopicId"), topic.GetUuid("TopicId"));
        },
    };

    [Fact]
    public async Task The_failure_is_logged_with_the_api_version_correlation_id_and_client()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        connection.ClientId = "client-" + Guid.NewGuid().ToString("N")[..8];
        var request = PopulatedRequests.New(KafkaApis.Produce.Request, 9);
        int correlationId = await connection.SendAsync(KafkaApis.Produce, 9, request);
        Assert.NotNull(await connection.ReadFrameAsync());

        var entry = Assert.Single(_broker.Log.Entries, e => e.Message.Contains(connection.ClientId, StringComparison.Ordinal));
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Equal("Quill.Broker.Handlers", entry.Category);
        Assert.Contains($"Produce v9 (correlation id {correlationId})", entry.Message, StringComparison.Ordinal);
        Assert.Contains(FailingHandlers.Reason, entry.Exception?.Message);
    }

    [Fact]
    public async Task An_acks_zero_produce_that_fails_gets_no_answer_and_the_connection_closes_as_in_kafka()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var request = PopulatedRequests.New(KafkaApis.Produce.Request, 9).SetInt("Acks", 0);
        await connection.SendAsync(KafkaApis.Produce, 9, request);
        // Closed with no frame before: a response would have been read as one.
        Assert.True(await connection.IsClosedByBrokerAsync());
    }

    [Fact]
    public async Task A_confluent_producer_gets_the_unknown_error_instead_of_a_disconnect_loop()
    {
        // Only Produce fails: the client finds the topic and its leader as usual.
        await using var broker = await InProcessBroker.StartAsync(
        [
            s => BrokerServer.CoreHandlers(s).Where(h => h.ApiKey != ApiKey.Produce).Append(FailingHandlers.For(ApiKey.Produce, afterAwait: true)),
            BrokerServer.GroupHandlerSet,
            BrokerServer.TransactionHandlerSet,
        ]);
        string topic = Clients.NewTopic("unknown-error");
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 1);

        using var producer = Clients.Producer(broker.BootstrapServers, c => { c.MessageTimeoutMs = 20_000; c.EnableIdempotence = false; });
        var failure = await Assert.ThrowsAsync<ProduceException<string, string>>(
            () => producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "v" }));
        Assert.Equal(ErrorCode.Unknown, failure.Error.Code);

        // The producer's connection still answers: its metadata comes back at once.
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        Assert.Single(admin.GetMetadata(topic, Clients.Timeout).Topics[0].Partitions);
        Assert.Contains(broker.Log.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("Produce v", StringComparison.Ordinal));
    }
}
