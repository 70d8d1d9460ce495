using Confluent.Kafka;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// Fetch as librdkafka (Confluent.Kafka) sees it now that records go from the segment files into the connection's send
/// buffers without a copy in between: large batches over several segments arrive byte for byte, read_committed still
/// drops aborted transactions spread over segments, and a consumer racing retention that closes and unlinks the
/// segments it reads gets only whole, intact records (CRCs checked) from a broker that keeps serving.
/// </summary>
public sealed class FetchTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private BrokerProcess Broker => fixture.Broker;

    private static byte[] Payload(int index, int size)
    {
        var bytes = new byte[size];
        new Random(index).NextBytes(bytes);
        return bytes;
    }

    private static IConsumer<string, byte[]> BytesConsumer(string bootstrap, Action<ConsumerConfig>? configure = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "unused-" + Guid.NewGuid().ToString("N")[..8],
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Error,
            CheckCrcs = true, // librdkafka skips CRC checks by default; a wrong byte must fail here
            EnablePartitionEof = true,
        };
        configure?.Invoke(config);
        return new ConsumerBuilder<string, byte[]>(config).Build();
    }

    [Fact]
    public async Task a_consumer_reads_large_batches_across_segments_byte_identical()
    {
        string topic = Clients.NewTopic("fetch-large");
        await Clients.CreateTopicAsync(Broker.BootstrapServers, topic, 1, new() { ["segment.bytes"] = $"{3 << 20}" });
        const int count = 400;
        var sizes = Enumerable.Range(0, count).Select(i => 8_000 + i * 7919 % 56_000).ToArray(); // 8-64 KB, ~14 MB in all
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = Broker.BootstrapServers, Acks = Acks.All, LingerMs = 50, BatchSize = 1 << 20, MessageMaxBytes = 2 << 20,
        }).Build())
        {
            for (int i = 0; i < count; i++) producer.Produce(topic, new Message<string, byte[]> { Key = $"{i}", Value = Payload(i, sizes[i]) });
            Assert.Equal(0, producer.Flush(Clients.Timeout));
        }
        int segments = Directory.GetFiles(Path.Combine(Broker.LogDir, $"{topic}-0"), "*.log").Length;
        Assert.True(segments >= 3, $"expected the records to span several segments, found {segments}");

        using var consumer = BytesConsumer(Broker.BootstrapServers, c => c.MaxPartitionFetchBytes = 4 << 20);
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        int next = 0;
        var deadline = DateTime.UtcNow + Clients.Timeout;
        while (next < count && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (result is null || result.IsPartitionEOF) continue;
            Assert.Equal(next, result.Offset.Value);
            Assert.Equal($"{next}", result.Message.Key);
            Assert.True(Payload(next, sizes[next]).AsSpan().SequenceEqual(result.Message.Value), $"record {next} differs from what was produced");
            next++;
        }
        Assert.Equal(count, next);
    }

    [Fact]
    public async Task read_committed_consumers_skip_aborted_transactions_spread_over_segments()
    {
        string topic = Clients.NewTopic("fetch-txn");
        await Clients.CreateTopicAsync(Broker.BootstrapServers, topic, 1, new() { ["segment.bytes"] = "16384" });
        var committed = new List<string>();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = Broker.BootstrapServers, TransactionalId = "txn-" + topic, LingerMs = 5,
        }).Build())
        {
            producer.InitTransactions(Clients.Timeout);
            for (int t = 0; t < 12; t++)
            {
                bool commit = t % 3 != 1; // every third one aborted
                producer.BeginTransaction();
                for (int i = 0; i < 30; i++)
                {
                    string value = $"t{t}-{i}-" + new string((char)('a' + t), 300);
                    producer.Produce(topic, new Message<string, string> { Key = $"{i}", Value = value });
                    if (commit) committed.Add(value);
                }
                producer.Flush(Clients.Timeout);
                if (commit) producer.CommitTransaction(Clients.Timeout);
                else producer.AbortTransaction(Clients.Timeout);
            }
        }
        int segments = Directory.GetFiles(Path.Combine(Broker.LogDir, $"{topic}-0"), "*.log").Length;
        Assert.True(segments >= 5, $"expected the transactions to span several segments, found {segments}");

        Assert.Equal(committed, ReadValues(topic, IsolationLevel.ReadCommitted, committed.Count));
        Assert.Equal(12 * 30, ReadValues(topic, IsolationLevel.ReadUncommitted, 12 * 30).Count);
    }

    private List<string> ReadValues(string topic, IsolationLevel isolation, int expected) =>
        Clients.ReadValues(Broker.BootstrapServers, topic, isolation, expected, checkCrcs: true);

    [Fact]
    public async Task a_consumer_racing_retention_that_deletes_its_segments_gets_whole_records_and_the_broker_keeps_serving()
    {
        await using var keeper = await KeeperProcess.StartAsync();
        await using var broker = await BrokerProcess.StartWithConfigAsync(keeper.ConnectString,
            new Dictionary<string, string> { ["log.retention.check.interval.ms"] = "20" });
        string topic = Clients.NewTopic("fetch-retention");
        // Tiny segments, a few kept, closed the moment retention drops them: fetches keep landing on doomed segments.
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 1,
            new() { ["segment.bytes"] = "32768", ["retention.bytes"] = "65536", ["file.delete.delay.ms"] = "0" });

        const int size = 2000;
        int produced = 0, failed = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        var producing = Task.Run(() =>
        {
            // Batches under a segment's size, so that every one is appended.
            using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
            {
                BootstrapServers = broker.BootstrapServers, Acks = Acks.Leader, LingerMs = 2, BatchSize = 16_384,
            }).Build();
            while (!stop.IsCancellationRequested)
            {
                for (int i = 0; i < 50; i++, produced++)
                    producer.Produce(topic, new Message<string, byte[]> { Key = $"{produced}", Value = Payload(produced, size) },
                        report => { if (report.Error.IsError) Interlocked.Increment(ref failed); });
                producer.Flush(Clients.Timeout);
            }
        });

        using var consumer = BytesConsumer(broker.BootstrapServers, c =>
        {
            c.AutoOffsetReset = AutoOffsetReset.Earliest; // jump past what retention removed
            c.FetchWaitMaxMs = 10;
        });
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        long lastOffset = -1;
        int received = 0, lastKey = -1;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            ConsumeResult<string, byte[]>? result;
            try
            {
                result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            }
            catch (ConsumeException e)
            {
                Assert.Fail($"consume failed: {e.Error.Code} {e.Error.Reason}\n{broker.Diagnostics()}");
                return;
            }
            if (result is null) continue;
            if (result.IsPartitionEOF)
            {
                if (producing.IsCompleted && lastKey == produced - 1) break;
                continue;
            }
            Assert.True(result.Offset.Value > lastOffset, $"offset {result.Offset.Value} after {lastOffset}");
            lastOffset = result.Offset.Value;
            lastKey = int.Parse(result.Message.Key);
            Assert.True(Payload(lastKey, size).AsSpan().SequenceEqual(result.Message.Value), $"record {lastKey} arrived damaged");
            received++;
        }
        await producing;
        Assert.Equal(0, failed);
        Assert.True(produced - 1 == lastKey, $"the consumer stopped at record {lastKey} of {produced} (offset {lastOffset}, {received} received)\n{broker.Diagnostics()}");
        Assert.True(received > 0, "the consumer received nothing");
        Assert.True(broker.IsRunning, "the broker stopped\n" + broker.Diagnostics());
        Assert.DoesNotContain("reading fetched records to send failed", broker.Output);
        // Retention did run under the consumer: the log start moved on.
        var low = consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), Clients.Timeout).Low.Value;
        Assert.True(low > 0, $"retention never moved the log start offset\n{broker.Diagnostics()}");
    }
}
