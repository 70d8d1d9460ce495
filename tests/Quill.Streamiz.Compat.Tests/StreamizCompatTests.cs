using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Broker.Compat.Tests;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.Stream;

namespace Quill.Streamiz.Compat.Tests;

/// <summary>
/// Streamiz.Kafka.Net applications run against the Quill broker: a stateless topology, and a word count whose state
/// store, changelog and repartition topics and consumer group all go through the broker; at-least-once and
/// exactly-once. Their exact output is read back with Confluent.Kafka.
/// </summary>
public sealed class StreamizCompatTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private string Bootstrap => fixture.Broker.BootstrapServers;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stateless_topology_writes_each_line_once(bool exactlyOnce)
    {
        string id = NewName("upper");
        string input = id + "-in", output = id + "-out";
        await CreateTopicsAsync((input, 2), (output, 2));
        var lines = Enumerable.Range(0, 40).Select(i => $"line {i}").ToList();
        await ProduceAsync(input, [.. lines, ""], partitions: 2);

        await using var app = await StartAsync(StreamizApps.Uppercase(input, output), id, exactlyOnce);
        var outputs = await ReadAsync(output, 2, lines.Count, app);

        Assert.Equal(lines.Select(l => (l, $"{l.ToUpperInvariant()}:{l.Length}")).Order(),
            outputs.Select(r => (r.Message.Key!, r.Message.Value!)).Order());
        await AssertNothingMoreAsync(output, 2, lines.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Word_count_keeps_its_counts_in_a_store_across_a_restart(bool exactlyOnce)
    {
        string id = NewName("words");
        string input = id + "-in", output = id + "-out";
        await CreateTopicsAsync((input, 2), (output, 2));
        string[] first = ["to be or not to be", "that is the question", "to be is to do"];
        string[] second = ["be quick", "to the point"];
        await ProduceAsync(input, first, partitions: 2);

        int firstWords = first.Sum(WordsIn);
        await using (var app = await StartAsync(StreamizApps.WordCount(input, output), id, exactlyOnce))
        {
            var outputs = await ReadAsync(output, 2, firstWords, app);
            Assert.Equal(Counts(first), LastCounts(outputs));

            // The store's changelog and the repartition topic were created through the broker, and the group is live.
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build();
            var topics = admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).ToList();
            Assert.Contains($"{id}-{StreamizApps.CountStore}-changelog", topics);
            Assert.Contains(topics, t => t.StartsWith(id + "-", StringComparison.Ordinal) && t.EndsWith("-repartition", StringComparison.Ordinal));
            var group = (await admin.DescribeConsumerGroupsAsync([id])).ConsumerGroupDescriptions.Single();
            Assert.Equal(ConsumerGroupState.Stable, group.State);
            Assert.NotEmpty(group.Members);
        }

        // A new instance of the application restores the store from its changelog and counts on.
        await ProduceAsync(input, second, partitions: 2);
        await using (var app = await StartAsync(StreamizApps.WordCount(input, output), id, exactlyOnce))
        {
            int total = firstWords + second.Sum(WordsIn);
            var outputs = await ReadAsync(output, 2, total, app);
            Assert.Equal(Counts([.. first, .. second]), LastCounts(outputs));
            await AssertNothingMoreAsync(output, 2, total);
        }
    }

    private static int WordsIn(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    private static SortedDictionary<string, string> Counts(IEnumerable<string> lines) =>
        new(lines.SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .GroupBy(w => w).ToDictionary(g => g.Key, g => g.Count().ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Each word's last count: one word's updates are all in one partition, in order.</summary>
    private static SortedDictionary<string, string> LastCounts(List<ConsumeResult<string?, string?>> outputs)
    {
        var last = new SortedDictionary<string, string>();
        foreach (var r in outputs.OrderBy(r => r.Partition.Value).ThenBy(r => r.Offset.Value)) last[r.Message.Key!] = r.Message.Value!;
        return last;
    }

    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    private async Task CreateTopicsAsync(params (string Name, int Partitions)[] topics)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Bootstrap }).Build();
        await admin.CreateTopicsAsync(topics.Select(t => new TopicSpecification { Name = t.Name, NumPartitions = t.Partitions, ReplicationFactor = 1 }));
    }

    private async Task ProduceAsync(string topic, IEnumerable<string> values, int partitions)
    {
        using var producer = new ProducerBuilder<string?, string?>(new ProducerConfig { BootstrapServers = Bootstrap, Acks = Acks.All }).Build();
        int i = 0;
        foreach (string value in values)
            await producer.ProduceAsync(new TopicPartition(topic, i++ % partitions), new Message<string?, string?> { Value = value });
    }

    private async Task<RunningApp> StartAsync(Topology topology, string applicationId, bool exactlyOnce)
    {
        var stream = new KafkaStream(topology, StreamizApps.Config(Bootstrap, applicationId, exactlyOnce));
        var app = new RunningApp(stream);
        await stream.StartAsync();
        return app;
    }

    /// <summary>Reads <paramref name="count"/> records (read_committed) from the start of the topic, failing if the application fails.</summary>
    private async Task<List<ConsumeResult<string?, string?>>> ReadAsync(string topic, int partitions, int count, RunningApp app)
    {
        using var consumer = NewReader();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var results = new List<ConsumeResult<string?, string?>>();
        var deadline = DateTime.UtcNow + Timeout;
        while (results.Count < count)
        {
            if (app.Failure is { } failure) throw new InvalidOperationException($"the application failed after {results.Count} of {count} outputs", failure);
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"read {results.Count} of {count} records from {topic} within {Timeout} (application state {app.State})");
            var result = await Task.Run(() => consumer.Consume(TimeSpan.FromMilliseconds(200)));
            if (result is { IsPartitionEOF: false }) results.Add(result);
        }
        return results;
    }

    /// <summary>The topic holds exactly <paramref name="expected"/> committed records: reads every partition to its end.</summary>
    private async Task AssertNothingMoreAsync(string topic, int partitions, int expected)
    {
        using var consumer = NewReader(partitionEof: true);
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var atEnd = new HashSet<int>();
        int read = 0;
        var deadline = DateTime.UtcNow + Timeout;
        while (atEnd.Count < partitions)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"reading {topic} to its end");
            var result = await Task.Run(() => consumer.Consume(TimeSpan.FromMilliseconds(200)));
            if (result is null) continue;
            if (result.IsPartitionEOF) atEnd.Add(result.Partition.Value);
            else
            {
                atEnd.Remove(result.Partition.Value);
                read++;
            }
        }
        Assert.Equal(expected, read);
    }

    private IConsumer<string?, string?> NewReader(bool partitionEof = false) => new ConsumerBuilder<string?, string?>(new ConsumerConfig
    {
        BootstrapServers = Bootstrap,
        GroupId = NewName("reader"),
        EnableAutoCommit = false,
        EnablePartitionEof = partitionEof,
        IsolationLevel = IsolationLevel.ReadCommitted,
    }).Build();

    /// <summary>A started application; disposing it closes it (its group left, its offsets committed).</summary>
    private sealed class RunningApp : IAsyncDisposable
    {
        private readonly KafkaStream _stream;

        public RunningApp(KafkaStream stream)
        {
            _stream = stream;
            stream.StateChanged += (_, state) =>
            {
                State = state;
                if (state == KafkaStream.State.ERROR) Failure ??= new InvalidOperationException("the Streamiz application went to state ERROR");
            };
        }

        public KafkaStream.State State { get; private set; } = KafkaStream.State.CREATED;
        public Exception? Failure { get; private set; }

        public ValueTask DisposeAsync()
        {
            _stream.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
