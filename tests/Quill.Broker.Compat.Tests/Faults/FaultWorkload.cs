using Confluent.Kafka;

namespace Quill.Broker.Compat.Tests.Faults;

/// <summary>
/// Writers and readers on one topic, each on a thread of its own, recording into a <see cref="BrokerHistory"/>.
/// A writer is an idempotent acks=all producer sending "w{writer}-{seq}" round robin over the partitions (at most
/// <see cref="MaxOutstanding"/> unanswered), recording every acknowledgement and failure; after a fatal error it starts
/// a new producer. A reader is a consumer of one group, reading from the committed offsets (earliest when none),
/// committing what it read every second and when partitions are revoked; every read, assignment and commit is recorded.
/// </summary>
public sealed class FaultWorkload(string bootstrap, string topic, int partitions, BrokerHistory history)
{
    public const int MaxOutstanding = 2000;
    private readonly CancellationTokenSource _stopWriters = new();
    private readonly CancellationTokenSource _stopReaders = new();
    private readonly List<Thread> _writers = [];
    private readonly List<Thread> _readers = [];
    private readonly List<Exception> _crashes = [];

    public string GroupId { get; } = $"fault-readers-{Guid.NewGuid():N}";

    public void Start(int writers, int readers)
    {
        for (int w = 0; w < writers; w++) _writers.Add(Spawn($"writer {w}", Write, w));
        for (int r = 0; r < readers; r++) _readers.Add(Spawn($"reader {r}", ReadAll, r));
    }

    private Thread Spawn(string name, Action<int> body, int id)
    {
        var thread = new Thread(() =>
        {
            try { body(id); }
            catch (Exception e) { lock (_crashes) _crashes.Add(new InvalidOperationException($"{name} crashed", e)); }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }

    /// <summary>Stops sending, waits for every outstanding record's outcome (librdkafka fails one after 120 s).</summary>
    public void StopWriters()
    {
        _stopWriters.Cancel();
        foreach (var t in _writers) t.Join();
        ThrowIfCrashed();
    }

    public void StopReaders()
    {
        _stopReaders.Cancel();
        foreach (var t in _readers) t.Join();
        ThrowIfCrashed();
    }

    private void ThrowIfCrashed()
    {
        lock (_crashes)
            if (_crashes.Count > 0) throw new AggregateException(_crashes);
    }

    /// <summary>Waits until the readers together have read every acknowledged record; false if they have not by the deadline.</summary>
    public async Task<bool> WaitForReadersAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var read = history.Reads.Select(r => (r.Partition, r.Offset)).ToHashSet();
            if (history.Acks.All(a => read.Contains((a.Partition, a.Offset)))) return true;
            if (DateTime.UtcNow > deadline) return false;
            ThrowIfCrashed();
            await Task.Delay(500);
        }
    }

    private IProducer<string, string> NewProducer(Action<Error> onError) =>
        new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            Acks = Acks.All,
            EnableIdempotence = true,
            MessageTimeoutMs = 120_000,
            LingerMs = 5,
        }).SetErrorHandler((_, e) => onError(e)).SetLogHandler((_, _) => { }).Build();

    private void Write(int writer)
    {
        int outstanding = 0;
        long seq = 0;
        while (!_stopWriters.IsCancellationRequested)
        {
            Error? fatal = null;
            using var producer = NewProducer(e =>
            {
                if (e.IsFatal) fatal = e;
            });
            while (!_stopWriters.IsCancellationRequested && fatal is null)
            {
                if (Volatile.Read(ref outstanding) >= MaxOutstanding)
                {
                    Thread.Sleep(10);
                    continue;
                }
                long s = seq++;
                int partition = (int)(s % partitions);
                string value = BrokerHistory.ValueOf(writer, s);
                Interlocked.Increment(ref outstanding);
                try
                {
                    producer.Produce(new TopicPartition(topic, partition), new Message<string, string> { Key = value, Value = value }, report =>
                    {
                        Interlocked.Decrement(ref outstanding);
                        if (report.Error.IsError)
                            history.Failures.Enqueue(new WriteFailure(writer, s, value, partition, report.Error.ToString(), history.Now));
                        else
                            history.Acks.Enqueue(new Ack(writer, s, value, partition, report.Offset.Value, history.Now));
                    });
                }
                catch (ProduceException<string, string> e)
                {
                    // Refused before it was queued (the producer failed fatally meanwhile): never sent.
                    Interlocked.Decrement(ref outstanding);
                    history.Failures.Enqueue(new WriteFailure(writer, s, value, partition, $"not queued: {e.Error}", history.Now));
                }
                Thread.Sleep(5);
            }
            producer.Flush(TimeSpan.FromSeconds(150));
            if (fatal is not null) history.FatalErrors.Enqueue($"writer {writer} at #{seq}: {fatal}");
        }
    }

    private void ReadAll(int reader)
    {
        var run = new Dictionary<int, int>();
        var next = new Dictionary<int, long>();
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = GroupId,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            SessionTimeoutMs = 10_000,
            HeartbeatIntervalMs = 1_000,
        })
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, _) => { })
            .SetPartitionsAssignedHandler((_, assigned) =>
            {
                foreach (var tp in assigned)
                {
                    run[tp.Partition.Value] = run.GetValueOrDefault(tp.Partition.Value) + 1;
                    next.Remove(tp.Partition.Value);
                    history.Assignments.Enqueue(new Assigned(reader, tp.Partition.Value, run[tp.Partition.Value], history.Now));
                }
            })
            .SetPartitionsRevokedHandler((c, revoked) =>
            {
                var mine = revoked.Select(tp => tp.Partition.Value).Where(next.ContainsKey).ToList();
                Commit(c, reader, next.Where(n => mine.Contains(n.Key)).ToList());
                foreach (int p in revoked.Select(tp => tp.Partition.Value)) next.Remove(p);
            })
            .Build();
        consumer.Subscribe(topic);
        var lastCommit = DateTime.UtcNow;
        while (!_stopReaders.IsCancellationRequested)
        {
            ConsumeResult<string, string>? result;
            try
            {
                result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            }
            catch (ConsumeException)
            {
                continue; // an error of one fetch (the partition's leader moving, say): librdkafka goes on
            }
            if (result is { IsPartitionEOF: false, Message: not null })
            {
                int p = result.Partition.Value;
                history.Reads.Enqueue(new Read(reader, p, result.Offset.Value, result.Message.Value, run.GetValueOrDefault(p), history.Now));
                next[p] = result.Offset.Value + 1;
            }
            if (DateTime.UtcNow - lastCommit > TimeSpan.FromSeconds(1))
            {
                Commit(consumer, reader, [.. next]);
                lastCommit = DateTime.UtcNow;
            }
        }
        consumer.Close();
    }

    private void Commit(IConsumer<string, string> consumer, int reader, List<KeyValuePair<int, long>> offsets)
    {
        if (offsets.Count == 0) return;
        foreach (var (p, o) in offsets) history.Commits.Enqueue(new CommitAttempt(reader, p, o, history.Now));
        try
        {
            consumer.Commit(offsets.Select(n => new TopicPartitionOffset(topic, n.Key, n.Value)));
        }
        catch (KafkaException)
        {
            // Not committed (or not known to be): the next reader of the partition may read some records again.
        }
    }
}
