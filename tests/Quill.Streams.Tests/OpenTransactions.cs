using Confluent.Kafka;

namespace Quill.Streams.Tests;

/// <summary>
/// What read_committed readers of a topic cannot see yet: per partition, the offsets from the last stable offset (the
/// first record of a transaction still open) to the end of the log, as two Confluent.Kafka consumers report them.
/// </summary>
public sealed class OpenTransactions(string bootstrap, string topic, int partitions) : IDisposable
{
    private readonly IConsumer<Ignore, Ignore> _committed = Consumer(bootstrap, IsolationLevel.ReadCommitted);
    private readonly IConsumer<Ignore, Ignore> _uncommitted = Consumer(bootstrap, IsolationLevel.ReadUncommitted);

    private static IConsumer<Ignore, Ignore> Consumer(string bootstrap, IsolationLevel isolation) =>
        new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "probe", IsolationLevel = isolation }).Build();

    /// <summary>Per partition, [last stable offset, end): empty where no transaction holding records is open.</summary>
    public OffsetRange[] Ranges()
    {
        var ranges = new OffsetRange[partitions];
        for (int p = 0; p < partitions; p++)
        {
            var partition = new TopicPartition(topic, p);
            // The stable offset first: a record appended in between only widens the range (all of it transactional).
            long stable = _committed.QueryWatermarkOffsets(partition, Kafka.Timeout).High.Value;
            long end = _uncommitted.QueryWatermarkOffsets(partition, Kafka.Timeout).High.Value;
            ranges[p] = new OffsetRange(p, stable, end);
        }
        return ranges;
    }

    public void Dispose()
    {
        _committed.Dispose();
        _uncommitted.Dispose();
    }
}

/// <summary>Offsets [<see cref="From"/>, <see cref="To"/>) of one partition.</summary>
public readonly record struct OffsetRange(int Partition, long From, long To)
{
    public bool IsEmpty => From >= To;
    public bool Contains(int partition, long offset) => partition == Partition && offset >= From && offset < To;
}
