using Confluent.Kafka;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// OffsetForLeaderEpoch (23), which librdkafka sends to validate its fetch position when the partition's leader epoch
/// changes (KIP-320). The broker answers with the end offset of the position's epoch (the log end for the current
/// epoch); a position past that end means the log was truncated under the consumer, which the client reports
/// (auto.offset.reset=error) or resolves by resuming at the epoch's end. A new epoch is made as a leader election
/// would make it: in the partition's state in Keeper, read by the broker when it restarts. (Confluent.Kafka's Seek
/// and a start from a committed offset do not validate, so an epoch change is the way a client gets here.)
/// </summary>
public sealed class OffsetForLeaderEpochTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly BrokerProcess _broker = fixture.Broker;
    private string Bootstrap => _broker.BootstrapServers;

    [Fact]
    public async Task A_consumer_validates_its_position_when_the_leader_epoch_changes_and_continues_in_order()
    {
        var tp = await TopicWithRecordsAsync("ofle-epoch", 5); // offsets 0-4 in epoch 0
        var log = new ClientLog();
        using var consumer = DebugConsumer(log, AutoOffsetReset.Error);
        consumer.Assign(new TopicPartitionOffset(tp, 0));
        Assert.Equal([0L, 1, 2, 3, 4], Enumerable.Range(0, 5).Select(_ => ConsumeOne(consumer).Offset.Value));

        await StartNewLeaderEpochAsync(tp, 5);
        await ProduceAsync(tp, 5, 10); // offsets 5-9 in epoch 5

        Assert.Equal([5L, 6, 7, 8, 9], Enumerable.Range(0, 5).Select(_ => ConsumeOne(consumer).Offset.Value));
        Assert.True(log.Has("Sent OffsetForLeaderEpochRequest"), "the client should have validated its position after the epoch change\n" + log);
        Assert.True(log.Has("offset and epoch validation succeeded"), log.ToString());

        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        Assert.Equal((0, 0, 5L), await AskAsync(connection, tp.Topic, 0, currentEpoch: 5, epoch: 0));  // epoch 0 ended where epoch 5 began
        Assert.Equal((0, 0, 5L), await AskAsync(connection, tp.Topic, 0, currentEpoch: 5, epoch: 3));  // the latest epoch at or below 3 is 0
        Assert.Equal((0, 5, 10L), await AskAsync(connection, tp.Topic, 0, currentEpoch: 5, epoch: 5)); // the current epoch: the log end
        Assert.Equal((0, -1, -1L), await AskAsync(connection, tp.Topic, 0, currentEpoch: 5, epoch: 6));
        Assert.Equal(((short)KafkaError.FencedLeaderEpoch, -1, -1L), await AskAsync(connection, tp.Topic, 0, currentEpoch: 0, epoch: 0));
        Assert.Equal(((short)KafkaError.UnknownLeaderEpoch, -1, -1L), await AskAsync(connection, tp.Topic, 0, currentEpoch: 6, epoch: 0));
    }

    [Theory]
    [InlineData(AutoOffsetReset.Error)]
    [InlineData(AutoOffsetReset.Earliest)]
    public async Task A_consumer_ahead_of_the_end_of_its_epoch_detects_the_truncated_log(AutoOffsetReset reset)
    {
        var tp = await TopicWithRecordsAsync("ofle-trunc", 8); // offsets 0-7 in epoch 0, one batch each
        var log = new ClientLog();
        using var consumer = DebugConsumer(log, reset);
        consumer.Assign(new TopicPartitionOffset(tp, 0));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), Enumerable.Range(0, 8).Select(_ => ConsumeOne(consumer).Offset.Value));

        // The broker loses offsets 5-7 (as a leader that had not replicated them would) and a new epoch starts at 5.
        await StartNewLeaderEpochAsync(tp, 5, keepBatches: 5);
        await ProduceAsync(tp, 100, 105); // offsets 5-9 in epoch 5: different records at the consumer's position

        if (reset == AutoOffsetReset.Error)
        {
            var error = ConsumeError(consumer);
            Assert.Contains("truncation detected", error.Reason);
            Assert.Contains("broker end offset is 5", error.Reason);
        }
        else
        {
            // librdkafka resumes at the end offset of its epoch, so it reads every record of the new epoch.
            var next = Enumerable.Range(0, 5).Select(_ => ConsumeOne(consumer)).ToList();
            Assert.Equal([5L, 6, 7, 8, 9], next.Select(r => r.Offset.Value));
            Assert.Equal(["100", "101", "102", "103", "104"], next.Select(r => r.Message.Value));
        }
        Assert.True(log.Has("Sent OffsetForLeaderEpochRequest"), log.ToString());
    }

    [Fact]
    public async Task Raw_requests_get_kafkas_answers_for_every_epoch_and_error()
    {
        var tp = await TopicWithRecordsAsync("ofle-raw", 10);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);

        Assert.Equal((0, 0, 10L), await AskAsync(connection, tp.Topic, 0, currentEpoch: 0, epoch: 0));
        Assert.Equal((0, 0, 10L), await AskAsync(connection, tp.Topic, 0, currentEpoch: -1, epoch: 0)); // no fencing check
        Assert.Equal((0, -1, -1L), await AskAsync(connection, tp.Topic, 0, currentEpoch: 0, epoch: 3)); // an epoch after the leader's
        Assert.Equal((0, -1, -1L), await AskAsync(connection, tp.Topic, 0, currentEpoch: 0, epoch: -1));
        Assert.Equal(((short)KafkaError.UnknownLeaderEpoch, -1, -1L), await AskAsync(connection, tp.Topic, 0, currentEpoch: 4, epoch: 0));
        Assert.Equal(((short)KafkaError.UnknownTopicOrPartition, -1, -1L), await AskAsync(connection, tp.Topic, 9, currentEpoch: 0, epoch: 0));
        Assert.Equal(((short)KafkaError.UnknownTopicOrPartition, -1, -1L), await AskAsync(connection, tp.Topic + "-missing", 0, currentEpoch: 0, epoch: 0));

        // v0 has no epochs in the answer and no current epoch in the question; v2 has no replica id.
        foreach (short version in new short[] { 0, 1, 2, 3 })
        {
            var (error, _, end) = await AskAsync(connection, tp.Topic, 0, currentEpoch: 0, epoch: 0, version);
            Assert.Equal((0, 10L), (error, end));
        }
    }

    /// <summary>
    /// Gives the partition a new leader epoch, as a leader election would: writes it into the partition's state in
    /// Keeper (which the broker reads when it starts), optionally cuts the log after its first <paramref name="keepBatches"/>
    /// batches while the broker is down (an unclean leader losing its tail), and restarts the broker.
    /// </summary>
    private async Task StartNewLeaderEpochAsync(TopicPartition tp, int epoch, int? keepBatches = null)
    {
        var set = await ToolRunner.RunKazooAsync("""
            import json, sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            path = '/brokers/topics/%s/partitions/%s/state' % (sys.argv[2], sys.argv[3])
            state = json.loads(zk.get(path)[0]); state['leader_epoch'] = int(sys.argv[4])
            zk.set(path, json.dumps(state).encode()); zk.stop()
            """, _broker.KeeperConnect, tp.Topic, $"{tp.Partition.Value}", $"{epoch}");
        Assert.True(set.Succeeded, set.ToString());
        _broker.Kill();
        if (keepBatches is { } keep)
        {
            string segment = Path.Combine(_broker.LogDir, $"{tp.Topic}-{tp.Partition.Value}", "00000000000000000000.log");
            byte[] bytes = await File.ReadAllBytesAsync(segment);
            int position = 0;
            for (int i = 0; i < keep; i++) position += 12 + System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(position + 8));
            await using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write)) file.SetLength(position);
        }
        await _broker.StartAgainAsync();
    }

    private async Task ProduceAsync(TopicPartition tp, int from, int to)
    {
        using var producer = Clients.Producer(Bootstrap);
        for (int i = from; i < to; i++) await producer.ProduceAsync(tp, new Message<string, string> { Key = "k", Value = $"{i}" });
    }

    private async Task<TopicPartition> TopicWithRecordsAsync(string prefix, int count)
    {
        string topic = Clients.NewTopic(prefix);
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        var tp = new TopicPartition(topic, 0);
        await ProduceAsync(tp, 0, count); // one at a time: one batch per record
        return tp;
    }

    private IConsumer<string, string> DebugConsumer(ClientLog log, AutoOffsetReset reset, string? group = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = group ?? "unused-" + Guid.NewGuid().ToString("N")[..8],
            EnableAutoCommit = false,
            AutoOffsetReset = reset,
            Debug = "consumer,protocol,fetch",
        };
        return new ConsumerBuilder<string, string>(config).SetLogHandler((_, m) => log.Add(m.Message)).Build();
    }

    private static ConsumeResult<string, string> ConsumeOne(IConsumer<string, string> consumer)
    {
        var deadline = DateTime.UtcNow + Clients.Timeout;
        while (DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (result is { IsPartitionEOF: false }) return result;
        }
        throw new TimeoutException($"no message within {Clients.Timeout}");
    }

    private static Error ConsumeError(IConsumer<string, string> consumer)
    {
        var deadline = DateTime.UtcNow + Clients.Timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
                if (result is { IsPartitionEOF: false }) Assert.Fail($"expected an error, got a message at offset {result.Offset}");
            }
            catch (ConsumeException e)
            {
                return e.Error;
            }
        }
        throw new TimeoutException($"no consumer error within {Clients.Timeout}");
    }

    private static async Task<(short Error, int Epoch, long EndOffset)> AskAsync(RawKafkaConnection connection, string topic, int partition,
        int currentEpoch, int epoch, short version = 4)
    {
        var request = KafkaApis.OffsetForLeaderEpoch.Request.New();
        if (version >= 3) request.SetInt("ReplicaId", -1);
        var p = request.AddElement("Topics").SetString("Topic", topic).AddElement("Partitions").SetInt("Partition", partition).SetInt("LeaderEpoch", epoch);
        if (version >= 2) p.SetInt("CurrentLeaderEpoch", currentEpoch);
        var response = await connection.RequestAsync(KafkaApis.OffsetForLeaderEpoch, version, request);
        var answer = response.GetArray("Topics")![0].GetArray("Partitions")![0];
        Assert.Equal(partition, answer.GetInt32("Partition"));
        return (answer.GetInt16("ErrorCode"), version >= 1 ? answer.GetInt32("LeaderEpoch") : -1, answer.GetInt64("EndOffset"));
    }

    /// <summary>librdkafka's debug log lines, for asserting which requests the client sent.</summary>
    private sealed class ClientLog
    {
        private readonly List<string> _lines = [];
        public void Add(string line) { lock (_lines) _lines.Add(line); }
        public bool Has(string text) { lock (_lines) return _lines.Any(l => l.Contains(text, StringComparison.Ordinal)); }
        public override string ToString()
        {
            lock (_lines) return string.Join('\n', _lines.Where(l => l.Contains("Epoch", StringComparison.OrdinalIgnoreCase) || l.Contains("VALID")).TakeLast(60));
        }
    }
}
