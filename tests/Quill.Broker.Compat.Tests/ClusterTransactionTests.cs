using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Broker.Transactions;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// The transaction coordinator in a cluster of three `quill broker start` processes (<see cref="BrokerCluster"/>,
/// internal topics with replication factor 3), driven by Confluent.Kafka: the coordinator of a transactional id is the
/// leader of its <c>__transaction_state</c> partition, and when that broker is killed with SIGKILL in the middle of a
/// stream of transactions, the producer carries on with the new leader, and a read_committed consumer sees every
/// committed transaction exactly once and nothing of an aborted one.
/// </summary>
public sealed class ClusterTransactionTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan TxnTimeout = TimeSpan.FromSeconds(60);
    private const int StatePartitions = 3, TopicPartitions = 3, RecordsPerTransaction = 6;

    private static readonly Dictionary<string, string> Config = new()
    {
        ["replica.lag.time.max.ms"] = "3000",
        ["offsets.topic.replication.factor"] = "3",
        ["transaction.state.log.replication.factor"] = "3",
        ["transaction.state.log.num.partitions"] = $"{StatePartitions}",
    };

    private static IProducer<string, string> TransactionalProducer(string bootstrap, string transactionalId) =>
        new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            TransactionalId = transactionalId,
            TransactionTimeoutMs = 60_000,
            MessageTimeoutMs = 60_000,
            LingerMs = 2,
        }).Build();

    /// <summary>What became of each transaction the test ran.</summary>
    private enum Outcome { Committed, Aborted, Unknown }

    [Fact]
    public async Task transactions_carry_on_exactly_once_when_the_broker_of_their_coordinator_is_killed()
    {
        await using var cluster = await BrokerCluster.StartAsync(3, Config);
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3 && c.Controller > 0, Deadline, "three brokers and a controller");
        string topic = Clients.NewTopic("cluster-txn");
        using (var admin = Clients.Admin(cluster.BootstrapServers))
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = topic, NumPartitions = TopicPartitions, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" },
            }]);
        }
        for (int p = 0; p < TopicPartitions; p++)
            await cluster.WaitForPartitionStateAsync(topic, p, s => s.Leader > 0 && s.Isr.Length == 3, Deadline, "a leader and all three in sync");

        string transactionalId = "txn-" + topic;
        var outcomes = new Dictionary<int, Outcome>();
        var producer = TransactionalProducer(cluster.BootstrapServers, transactionalId);
        try
        {
            producer.InitTransactions(TxnTimeout);
            // The topic exists now, with all three brokers as replicas of each partition.
            int statePartition = TransactionStateTopic.PartitionFor(transactionalId, StatePartitions);
            var before = await cluster.WaitForPartitionStateAsync(TransactionStateTopic.Name, statePartition, s => s.Leader > 0 && s.Isr.Length == 3,
                Deadline, "the transactional id's partition led, with all three in sync");
            using (var admin = Clients.Admin(cluster.BootstrapServers))
            {
                // transaction.state.log.min.isr (default 2): a coordinator's answer is on two brokers at least.
                var described = await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = TransactionStateTopic.Name }]);
                Assert.Equal("2", described.Single().Entries["min.insync.replicas"].Value);
            }

            int next = 0;
            void RunTransactions(int committed)
            {
                var until = DateTime.UtcNow + Deadline;
                int target = outcomes.Values.Count(o => o == Outcome.Committed) + committed;
                while (outcomes.Values.Count(o => o == Outcome.Committed) < target)
                {
                    Assert.True(DateTime.UtcNow < until, $"only {outcomes.Values.Count(o => o == Outcome.Committed)} of {target} transactions committed\n{cluster.Diagnostics()}");
                    int txn = next++;
                    outcomes[txn] = RunOne(ref producer, cluster, transactionalId, topic, txn, abort: txn % 5 == 4);
                }
            }

            await Task.Run(() => RunTransactions(8));
            cluster.Brokers[before.Leader].Kill();
            // The transactions go on while the cluster notices the death and elects a new leader for the partition.
            await Task.Run(() => RunTransactions(8));
            var after = await cluster.WaitForPartitionStateAsync(TransactionStateTopic.Name, statePartition, s => s.Leader > 0 && s.Leader != before.Leader,
                Deadline, $"a leader other than the killed broker {before.Leader}");
            Assert.True(after.LeaderEpoch > before.LeaderEpoch);
        }
        finally
        {
            producer.Dispose();
        }

        // Every committed transaction exactly once, nothing of an aborted one; one whose end the client never learned
        // (its producer was replaced) is all there or not at all.
        var live = string.Join(',', cluster.Brokers.Where(b => b.Value.IsRunning).Select(b => b.Value.BootstrapServers));
        int expected = outcomes.Count(o => o.Value == Outcome.Committed) * RecordsPerTransaction;
        var read = ReadCommitted(live, topic, expected);
        Assert.Equal(read.Count, read.Distinct().Count());
        var byTransaction = read.GroupBy(v => int.Parse(v.Split('-')[0][1..])).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (txn, outcome) in outcomes)
        {
            int seen = byTransaction.GetValueOrDefault(txn);
            switch (outcome)
            {
                case Outcome.Committed:
                    Assert.True(seen == RecordsPerTransaction, $"committed transaction {txn}: {seen} of {RecordsPerTransaction} records read");
                    break;
                case Outcome.Aborted:
                    Assert.True(seen == 0, $"aborted transaction {txn}: {seen} records read");
                    break;
                default:
                    Assert.True(seen is 0 or RecordsPerTransaction, $"transaction {txn} of unknown outcome: {seen} of {RecordsPerTransaction} records read");
                    break;
            }
        }
        Assert.All(byTransaction.Keys, txn => Assert.True(outcomes.ContainsKey(txn), $"records of transaction {txn}, never run"));
        Assert.True(outcomes.Count(o => o.Value == Outcome.Aborted) > 0, "some transactions were aborted");
    }

    /// <summary>
    /// One transaction: records "t{n}-{i}" over every partition, then commit (or abort). As an application does with
    /// librdkafka: a retriable failure of the commit is retried, an abortable one aborts, a fatal one replaces the
    /// producer (whose InitTransactions fences the old one and finishes its transaction: its outcome is unknown here).
    /// </summary>
    private static Outcome RunOne(ref IProducer<string, string> producer, BrokerCluster cluster, string transactionalId, string topic, int txn, bool abort)
    {
        try
        {
            producer.BeginTransaction();
            for (int i = 0; i < RecordsPerTransaction; i++)
                producer.Produce(new TopicPartition(topic, i % TopicPartitions), new Message<string, string> { Key = $"{i}", Value = $"t{txn}-{i}" });
            if (abort)
            {
                producer.AbortTransaction(TxnTimeout);
                return Outcome.Aborted;
            }
            while (true)
            {
                try
                {
                    producer.CommitTransaction(TxnTimeout);
                    return Outcome.Committed;
                }
                catch (KafkaRetriableException)
                {
                    // The commit's outcome is not known yet: asking again finishes it.
                }
            }
        }
        catch (KafkaTxnRequiresAbortException)
        {
            producer.AbortTransaction(TxnTimeout);
            return Outcome.Aborted;
        }
        catch (KafkaException e) when (e.Error.IsFatal || e is KafkaRetriableException)
        {
            producer.Dispose();
            producer = TransactionalProducer(cluster.BootstrapServers, transactionalId);
            producer.InitTransactions(TxnTimeout);
            return Outcome.Unknown;
        }
    }

    /// <summary>Every record of the topic's partitions as a read_committed consumer sees them, read until each partition's end once <paramref name="expected"/> came.</summary>
    private static List<string> ReadCommitted(string bootstrap, string topic, int expected)
    {
        using var consumer = Clients.Consumer(bootstrap, c =>
        {
            c.IsolationLevel = IsolationLevel.ReadCommitted;
            c.EnablePartitionEof = true;
        });
        consumer.Assign(Enumerable.Range(0, TopicPartitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var values = new List<string>();
        var atEnd = new HashSet<int>();
        var deadline = DateTime.UtcNow + Deadline;
        while (DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null) continue;
            if (result.IsPartitionEOF)
            {
                atEnd.Add(result.Partition.Value);
                if (values.Count >= expected && atEnd.Count == TopicPartitions) break;
                continue;
            }
            atEnd.Remove(result.Partition.Value);
            values.Add(result.Message.Value);
        }
        consumer.Close();
        Assert.True(values.Count >= expected, $"read {values.Count} committed records, expected at least {expected}");
        return values;
    }
}
