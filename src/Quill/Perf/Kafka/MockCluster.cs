using Confluent.Kafka;

namespace Quill.Perf.Kafka;

/// <summary>
/// librdkafka's in-process mock broker (test.mock.num.brokers=1), hosted by an idle admin client for as long as this
/// object lives. It listens on 127.0.0.1 like a real broker, so ordinary clients connect to <see cref="BootstrapServers"/>:
/// the same producer or consumer code runs against it and against a real broker. It auto-creates topics on first
/// use (4 partitions) and supports produce, fetch, offsets and groups, but none of the controller-bound admin APIs.
/// </summary>
public sealed class MockCluster : IDisposable
{
    private readonly IAdminClient _host;

    public MockCluster()
    {
        var config = new AdminClientConfig { BootstrapServers = "mock" };
        config.Set("test.mock.num.brokers", "1");
        // The mock announces itself at level 5 ("Mock cluster enabled ..."); keep quill's output clean.
        _host = new AdminClientBuilder(config).SetLogHandler((_, _) => { }).Build();
        var broker = _host.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Single();
        BootstrapServers = $"{broker.Host}:{broker.Port}";
    }

    public string BootstrapServers { get; }

    public void Dispose() => _host.Dispose();
}
