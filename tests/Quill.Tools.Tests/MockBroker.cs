using Quill.Perf.Kafka;

namespace Quill.Tools.Tests;

/// <summary>
/// librdkafka's mock broker hosted in the test process for the whole collection. It listens on 127.0.0.1, so quill
/// processes reach it with --bootstrap-server like any broker. It serves produce, fetch, offsets and groups (topics
/// are auto-created with 4 partitions) but no controller-bound admin API (CreateTopics, DescribeConfigs, ...).
/// </summary>
public sealed class MockBroker : IDisposable
{
    private readonly MockCluster _cluster = new();

    public string BootstrapServers => _cluster.BootstrapServers;

    public void Dispose() => _cluster.Dispose();
}

[CollectionDefinition(Name)]
public sealed class MockBrokerCollection : ICollectionFixture<MockBroker>
{
    public const string Name = "mock broker";
}
