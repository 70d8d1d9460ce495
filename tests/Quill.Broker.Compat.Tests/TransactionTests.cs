using Confluent.Kafka;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// Kafka transactions driven by librdkafka (Confluent.Kafka): what a committed transaction shows and an aborted one
/// hides from read_committed consumers, offsets sent to a transaction, fencing of an older producer with the same
/// transactional.id, and a kill -9 with a transaction open and after one committed.
/// </summary>
public sealed class TransactionTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private static readonly TimeSpan TxnTimeout = TimeSpan.FromSeconds(30);
    private BrokerProcess Broker => fixture.Broker;

    private static IProducer<string, string> TransactionalProducer(string bootstrap, string transactionalId) =>
        new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            TransactionalId = transactionalId,
            TransactionTimeoutMs = 60_000,
            LingerMs = 5,
        }).Build();

    private static List<string> ReadAll(string bootstrap, string topic, IsolationLevel isolation, int expected, TimeSpan? wait = null) =>
        Clients.ReadValues(bootstrap, topic, isolation, expected, wait);

    [Fact]
    public async Task Committed_transactions_are_visible_and_aborted_ones_hidden_from_read_committed_consumers()
    {
        string topic = Clients.NewTopic("txn");
        await Clients.CreateTopicAsync(Broker.BootstrapServers, topic, 1);
        using (var producer = TransactionalProducer(Broker.BootstrapServers, "txn-" + topic))
        {
            producer.InitTransactions(TxnTimeout);
            producer.BeginTransaction();
            for (int i = 0; i < 5; i++) producer.Produce(topic, new Message<string, string> { Key = "k", Value = $"committed-{i}" });
            producer.CommitTransaction(TxnTimeout);

            producer.BeginTransaction();
            for (int i = 0; i < 5; i++) producer.Produce(topic, new Message<string, string> { Key = "k", Value = $"aborted-{i}" });
            producer.Flush(TxnTimeout);
            producer.AbortTransaction(TxnTimeout);

            producer.BeginTransaction();
            producer.Produce(topic, new Message<string, string> { Key = "k", Value = "last" });
            producer.CommitTransaction(TxnTimeout);
        }

        var committed = ReadAll(Broker.BootstrapServers, topic, IsolationLevel.ReadCommitted, 6);
        Assert.Equal([.. Enumerable.Range(0, 5).Select(i => $"committed-{i}"), "last"], committed);
        // read_uncommitted sees the aborted records too (the markers themselves are never delivered).
        var everything = ReadAll(Broker.BootstrapServers, topic, IsolationLevel.ReadUncommitted, 11);
        Assert.Equal(11, everything.Count);
        Assert.Contains("aborted-3", everything);
    }

    [Fact]
    public async Task A_read_committed_consumer_waits_for_an_open_transaction()
    {
        string topic = Clients.NewTopic("txn-open");
        await Clients.CreateTopicAsync(Broker.BootstrapServers, topic, 1);
        using var producer = TransactionalProducer(Broker.BootstrapServers, "txn-" + topic);
        producer.InitTransactions(TxnTimeout);
        producer.BeginTransaction();
        producer.Produce(topic, new Message<string, string> { Key = "k", Value = "pending" });
        producer.Flush(TxnTimeout);

        // Written but not committed: read_uncommitted sees it, read_committed stops before it.
        Assert.Equal(["pending"], ReadAll(Broker.BootstrapServers, topic, IsolationLevel.ReadUncommitted, 1));
        Assert.Empty(ReadAll(Broker.BootstrapServers, topic, IsolationLevel.ReadCommitted, 0, TimeSpan.FromSeconds(3)));

        producer.CommitTransaction(TxnTimeout);
        Assert.Equal(["pending"], ReadAll(Broker.BootstrapServers, topic, IsolationLevel.ReadCommitted, 1));
    }

    [Fact]
    public async Task Offsets_sent_to_a_transaction_are_committed_with_it_and_dropped_with_an_abort()
    {
        string input = Clients.NewTopic("txn-in"), output = Clients.NewTopic("txn-out"), group = "txn-group-" + input;
        await Clients.CreateTopicAsync(Broker.BootstrapServers, input, 1);
        await Clients.CreateTopicAsync(Broker.BootstrapServers, output, 1);
        using (var plain = Clients.Producer(Broker.BootstrapServers))
        {
            for (int i = 0; i < 10; i++) plain.Produce(input, new Message<string, string> { Key = "k", Value = $"{i}" });
            plain.Flush(Clients.Timeout);
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = Broker.BootstrapServers,
            GroupId = group,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = IsolationLevel.ReadCommitted,
        }).Build();
        consumer.Subscribe(input);
        var consumed = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow + Clients.Timeout;
        while (consumed.Count < 10 && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { } r) consumed.Add(r);
        Assert.Equal(10, consumed.Count);

        using var producer = TransactionalProducer(Broker.BootstrapServers, "txn-" + input);
        producer.InitTransactions(TxnTimeout);

        // First half: transformed, offsets sent, aborted: the group's committed offset does not move.
        producer.BeginTransaction();
        foreach (var r in consumed.Take(5)) producer.Produce(output, new Message<string, string> { Key = r.Message.Key, Value = "x" + r.Message.Value });
        producer.SendOffsetsToTransaction([new TopicPartitionOffset(input, 0, consumed[4].Offset + 1)], consumer.ConsumerGroupMetadata, TxnTimeout);
        producer.AbortTransaction(TxnTimeout);
        Assert.Equal(Offset.Unset, Committed(consumer, input));

        // Then all ten, committed: the output and the group's offset move together.
        producer.BeginTransaction();
        foreach (var r in consumed) producer.Produce(output, new Message<string, string> { Key = r.Message.Key, Value = "x" + r.Message.Value });
        producer.SendOffsetsToTransaction([new TopicPartitionOffset(input, 0, consumed[^1].Offset + 1)], consumer.ConsumerGroupMetadata, TxnTimeout);
        producer.CommitTransaction(TxnTimeout);
        Assert.Equal(new Offset(10), Committed(consumer, input));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"x{i}"), ReadAll(Broker.BootstrapServers, output, IsolationLevel.ReadCommitted, 10));
        consumer.Close();
    }

    [Fact]
    public async Task After_kill_9_committed_transactions_survive_and_an_open_one_stays_hidden_until_aborted()
    {
        await using var broker = await BrokerProcess.StartAsync();
        string topic = Clients.NewTopic("txn-kill");
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 1);
        string transactionalId = "txn-" + topic;
        var crashed = TransactionalProducer(broker.BootstrapServers, transactionalId);
        crashed.InitTransactions(TxnTimeout);
        crashed.BeginTransaction();
        for (int i = 0; i < 5; i++) crashed.Produce(topic, new Message<string, string> { Key = "k", Value = $"committed-{i}" });
        crashed.CommitTransaction(TxnTimeout);
        crashed.BeginTransaction();
        for (int i = 0; i < 3; i++) crashed.Produce(topic, new Message<string, string> { Key = "k", Value = $"open-{i}" });
        crashed.Flush(TxnTimeout);

        broker.Kill();
        await broker.StartAgainAsync();

        // The open transaction was recovered as open: read_committed stops before it, read_uncommitted sees it.
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"committed-{i}"),
            ReadAll(broker.BootstrapServers, topic, IsolationLevel.ReadCommitted, 5, TimeSpan.FromSeconds(10)));
        Assert.Equal(8, ReadAll(broker.BootstrapServers, topic, IsolationLevel.ReadUncommitted, 8).Count);

        // The application restarts its producer: the coordinator aborts the open transaction and the log moves on.
        using (var restarted = TransactionalProducer(broker.BootstrapServers, transactionalId))
        {
            restarted.InitTransactions(TxnTimeout);
            restarted.BeginTransaction();
            restarted.Produce(topic, new Message<string, string> { Key = "k", Value = "after" });
            restarted.CommitTransaction(TxnTimeout);
        }
        Assert.Equal([.. Enumerable.Range(0, 5).Select(i => $"committed-{i}"), "after"],
            ReadAll(broker.BootstrapServers, topic, IsolationLevel.ReadCommitted, 6));
        crashed.Dispose();
    }

    [Fact]
    public async Task A_transaction_open_past_its_timeout_is_aborted_and_its_producer_fenced()
    {
        await using var keeper = await Quill.Testing.KeeperProcess.StartAsync();
        await using var broker = await BrokerProcess.StartWithConfigAsync(keeper.ConnectString, new Dictionary<string, string>
        {
            ["transaction.state.log.replication.factor"] = "1",
            ["transaction.state.log.num.partitions"] = "3",
            ["transaction.abort.timed.out.transaction.cleanup.interval.ms"] = "500",
        });
        string topic = Clients.NewTopic("txn-timeout");
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 1);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            TransactionalId = "txn-" + topic,
            TransactionTimeoutMs = 3000,
        }).Build();
        producer.InitTransactions(TxnTimeout);
        producer.BeginTransaction();
        producer.Produce(topic, new Message<string, string> { Key = "k", Value = "abandoned" });
        producer.Flush(TxnTimeout);
        using (var plain = Clients.Producer(broker.BootstrapServers))
            await plain.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "plain" });

        // Until the coordinator aborts it, the open transaction holds read_committed consumers before it; then they
        // move on, past the aborted record, to the plain one.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        List<string> committed;
        do committed = ReadAll(broker.BootstrapServers, topic, IsolationLevel.ReadCommitted, 1, TimeSpan.FromSeconds(2));
        while (committed.Count == 0 && DateTime.UtcNow < deadline);
        Assert.Equal(["plain"], committed);

        var fenced = Assert.ThrowsAny<KafkaException>(() => producer.CommitTransaction(TxnTimeout));
        Assert.True(fenced.Error.Code is ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch || fenced.Error.IsFatal
                    || fenced is KafkaTxnRequiresAbortException,
            $"expected the commit of a timed-out transaction to fail as fenced or abortable, got {fenced.Error.Code}: {fenced.Error.Reason}");
    }

    private static Offset Committed(IConsumer<string, string> consumer, string topic) =>
        consumer.Committed([new TopicPartition(topic, 0)], Clients.Timeout)[0].Offset;

    [Fact]
    public async Task A_new_producer_with_the_same_transactional_id_fences_the_old_one_and_aborts_its_transaction()
    {
        string topic = Clients.NewTopic("txn-fence");
        await Clients.CreateTopicAsync(Broker.BootstrapServers, topic, 1);
        string transactionalId = "txn-" + topic;
        using var zombie = TransactionalProducer(Broker.BootstrapServers, transactionalId);
        zombie.InitTransactions(TxnTimeout);
        zombie.BeginTransaction();
        zombie.Produce(topic, new Message<string, string> { Key = "k", Value = "zombie" });
        zombie.Flush(TxnTimeout);

        using (var successor = TransactionalProducer(Broker.BootstrapServers, transactionalId))
        {
            successor.InitTransactions(TxnTimeout);
            successor.BeginTransaction();
            successor.Produce(topic, new Message<string, string> { Key = "k", Value = "successor" });
            successor.CommitTransaction(TxnTimeout);
        }

        var fenced = Assert.ThrowsAny<KafkaException>(() => zombie.CommitTransaction(TxnTimeout));
        Assert.True(fenced.Error.Code is ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch || fenced.Error.IsFatal,
            $"expected the old producer to be fenced, got {fenced.Error.Code}: {fenced.Error.Reason}");
        Assert.Equal(["successor"], ReadAll(Broker.BootstrapServers, topic, IsolationLevel.ReadCommitted, 1));
    }
}
