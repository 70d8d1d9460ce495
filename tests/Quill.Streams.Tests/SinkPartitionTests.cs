using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Cluster;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Serialization;

namespace Quill.Streams.Tests;

/// <summary>
/// A Kafka sink with a partitioner (Flink's KafkaSink with setPartitioner): every record lands on the partition the
/// partitioner chose, checked by reading each partition on its own with a plain Confluent.Kafka consumer, at-least-once,
/// exactly-once (read_committed), and through a follower's forwarding to the leader (scale-out); a partition the
/// topic does not have fails the job with an error that names it.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class SinkPartitionTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-sinkpart-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private StreamJob NewJob(DeliveryGuarantee guarantee, int parallelism = 2) => StreamJob.Create(new StreamJobOptions
    {
        BootstrapServers = fixture.Broker.BootstrapServers,
        JobName = Kafka.NewTopic("sinkpart"),
        Parallelism = parallelism,
        DeliveryGuarantee = guarantee,
        CheckpointDirectory = guarantee == DeliveryGuarantee.ExactlyOnce ? _directory : null,
        CheckpointInterval = TimeSpan.FromMilliseconds(300),
    });

    private async Task<(string Input, string Output)> TopicsAsync(int inputPartitions, int outputPartitions)
    {
        string input = Kafka.NewTopic("in"), output = Kafka.NewTopic("out");
        await _kafka.CreateTopicAsync(input, inputPartitions);
        await _kafka.CreateTopicAsync(output, outputPartitions);
        return (input, output);
    }

    /// <summary>
    /// Each partition of <paramref name="topic"/> read to its end by a consumer assigned that partition alone: its values,
    /// by partition. Every record a consumer gets must be of its partition.
    /// </summary>
    private Dictionary<int, List<string>> ReadEachPartition(string topic, int partitions, IsolationLevel isolation)
    {
        var values = new Dictionary<int, List<string>>();
        for (int partition = 0; partition < partitions; partition++)
        {
            using var consumer = new ConsumerBuilder<string?, string?>(new ConsumerConfig
            {
                BootstrapServers = fixture.Broker.BootstrapServers,
                GroupId = "reader-" + Guid.NewGuid().ToString("N")[..8],
                EnableAutoCommit = false,
                EnablePartitionEof = true,
                IsolationLevel = isolation,
            }).Build();
            consumer.Assign(new TopicPartitionOffset(topic, partition, Offset.Beginning));
            var read = values[partition] = [];
            var deadline = DateTime.UtcNow + Kafka.Timeout;
            while (true)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"partition {partition} of {topic} not read to its end within {Kafka.Timeout}");
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is null) continue;
                Assert.Equal(partition, result.Partition.Value);
                if (result.IsPartitionEOF) break;
                read.Add(result.Message.Value!);
            }
        }
        return values;
    }

    private static readonly string[] Numbers = [.. Enumerable.Range(0, 40).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Even numbers to partition 0, odd ones to the last: partition 1 of 3 stays empty, which a key hash would not leave.</summary>
    private static int ByParity(string number, int partitions) => int.Parse(number, System.Globalization.CultureInfo.InvariantCulture) % 2 == 0 ? 0 : partitions - 1;

    private static void AssertByParity(Dictionary<int, List<string>> read)
    {
        Assert.Equal(Numbers.Where(n => ByParity(n, 3) == 0).Order(), read[0].Order());
        Assert.Empty(read[1]);
        Assert.Equal(Numbers.Where(n => ByParity(n, 3) == 2).Order(), read[2].Order());
    }

    [Fact]
    public async Task at_least_once_each_record_lands_on_the_partition_the_function_chose()
    {
        var (input, output) = await TopicsAsync(2, 3);
        await _kafka.ProduceAsync(input, Numbers, partitions: 2);

        var job = NewJob(DeliveryGuarantee.AtLeastOnce);
        // Keyed by the number: without the partitioner the client would spread them over all three partitions by hash.
        job.FromKafka(input, Serdes.String).Map(v => v!).ToKafka(output, v => v, Serdes.String!, Serdes.String!, (v, n) => ByParity(v, n));
        await using var running = new RunningJob(job);
        await _kafka.ReadAsync(output, 3, Numbers.Length, running.Run);
        await running.StopAsync();

        AssertByParity(ReadEachPartition(output, 3, IsolationLevel.ReadUncommitted));
    }

    /// <summary>A Flink-style partitioner: it sees the serialized key and value and the target topic.</summary>
    private sealed class KeyParityPartitioner(string expectedTopic) : KafkaPartitioner<string>
    {
        public override int Partition(string record, byte[]? key, byte[]? value, string topic, int partitionCount)
        {
            if (topic != expectedTopic || Encoding.UTF8.GetString(value!) != record)
                throw new InvalidOperationException($"the partitioner was given topic {topic} and value {Encoding.UTF8.GetString(value!)} for {record}");
            return ByParity(Encoding.UTF8.GetString(key!), partitionCount);
        }
    }

    [Fact]
    public async Task exactly_once_each_record_lands_on_the_partition_the_partitioner_chose_for_read_committed_readers()
    {
        var (input, output) = await TopicsAsync(2, 3);
        await _kafka.ProduceAsync(input, Numbers, partitions: 2);

        var job = NewJob(DeliveryGuarantee.ExactlyOnce);
        job.FromKafka(input, Serdes.String).Map(v => v!).ToKafka(output, v => v, Serdes.String!, Serdes.String!, new KeyParityPartitioner(output));
        await using var running = new RunningJob(job);
        await _kafka.ReadAsync(output, 3, Numbers.Length, running.Run, IsolationLevel.ReadCommitted);
        await running.StopAsync();

        AssertByParity(ReadEachPartition(output, 3, IsolationLevel.ReadCommitted));
    }

    [Fact]
    public async Task the_fixed_partitioner_writes_each_sink_subtask_to_its_own_partition()
    {
        var (input, output) = await TopicsAsync(2, 3);
        // Source partition i is read by subtask i (parallelism 2), whose chained sink writes to partition i.
        await _kafka.ProduceAsync(input, Enumerable.Range(0, 20).Select(i => new Input(null, $"{(i % 2 == 0 ? "a" : "b")}{i}", i % 2, null)));

        var job = NewJob(DeliveryGuarantee.AtLeastOnce);
        job.FromKafka(input, Serdes.String).ToKafka(output, Serdes.String, KafkaPartitioner.Fixed<string?>());
        await using var running = new RunningJob(job);
        await _kafka.ReadAsync(output, 3, 20, running.Run);
        await running.StopAsync();

        var read = ReadEachPartition(output, 3, IsolationLevel.ReadUncommitted);
        Assert.Equal(10, read[0].Count);
        Assert.All(read[0], v => Assert.StartsWith("a", v, StringComparison.Ordinal));
        Assert.Equal(10, read[1].Count);
        Assert.All(read[1], v => Assert.StartsWith("b", v, StringComparison.Ordinal));
        Assert.Empty(read[2]);
    }

    [Theory]
    [InlineData(DeliveryGuarantee.AtLeastOnce)]
    [InlineData(DeliveryGuarantee.ExactlyOnce)]
    public async Task a_partition_the_topic_does_not_have_fails_the_job_naming_topic_partition_and_count(DeliveryGuarantee guarantee)
    {
        var (input, output) = await TopicsAsync(1, 3);
        await _kafka.ProduceAsync(input, ["fine", "too far"]);

        var job = NewJob(guarantee, parallelism: 1);
        job.FromKafka(input, Serdes.String).Map(v => v!).ToKafka(output, Serdes.String!, (v, n) => v == "too far" ? n : 0);
        await using var running = new RunningJob(job);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => running.Run.WaitAsync(Kafka.Timeout));
        Assert.Equal($"the sink's partitioner chose partition 3 of topic '{output}', which has 3 partitions (0 to 2; counted when the sink started)",
            failure.Message);
    }

    /// <summary>
    /// Scale-out, exactly-once: a follower's sink task forwards its records to the leader, which writes them into the
    /// job's transaction. Here the follower's sink (with its partitioner and its own partition-count lookup) writes
    /// through a real <see cref="SinkForwarder"/> over TCP to the leader's <see cref="SinkReceiver"/> and
    /// <see cref="ExactlyOnceOutput"/>; after the checkpoint commits, each record is on the partition chosen in the follower.
    /// </summary>
    [Fact]
    public async Task a_followers_forwarded_records_land_on_the_partitions_its_sink_chose()
    {
        var (marker, output) = await TopicsAsync(1, 3);
        var options = new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = Kafka.NewTopic("sinkpart"),
            DeliveryGuarantee = DeliveryGuarantee.ExactlyOnce,
            CheckpointDirectory = _directory,
        };
        using var stop = new CancellationTokenSource(Kafka.Timeout * 2);
        using var leader = ExactlyOnceOutput.Open(options, new CheckpointStorage(_directory), marker);

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        // The leader's end stays open until the test ends (the follower expects it to close only after its end).
        var receiving = Task.Run(async () =>
        {
            var connection = await listener.AcceptTcpClientAsync(stop.Token);
            var stream = connection.GetStream();
            var length = new byte[4];
            await stream.ReadExactlyAsync(length, stop.Token);
            await stream.ReadExactlyAsync(new byte[BinaryPrimitives.ReadInt32BigEndian(length)], stop.Token); // the hello
            await stream.WriteAsync(new byte[] { 1 }, stop.Token);
            await SinkReceiver.ReceiveAsync(stream, leader, stop.Token);
            return connection;
        });

        var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var hello = new Hello { Kind = Hello.Sink, Generation = 1, Sender = 0, Instance = "follower" };
        var forwarding = ExactlyOnceOutput.Forwarding(abort =>
            new SinkForwarder($"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}", hello, 64, failures.Enqueue, abort));
        using var sink = new KafkaSink<string>(options, output, v => Encoding.UTF8.GetBytes(v), v => Encoding.UTF8.GetBytes(v), stop.Token,
            forwarding, KafkaPartitioner.Of<string>(ByParity));
        foreach (var number in Numbers) await sink.RecordAsync(number, 1_700_000_000_000);
        await sink.BarrierAsync(leader.FirstEpoch);
        var checkpoint = new Checkpoint { Id = leader.FirstEpoch };
        leader.PreCommit(checkpoint);
        leader.Commit(checkpoint);
        await sink.EndAsync();
        using var connection = await receiving.WaitAsync(stop.Token);

        Assert.Empty(failures);
        AssertByParity(ReadEachPartition(output, 3, IsolationLevel.ReadCommitted));
    }
}
