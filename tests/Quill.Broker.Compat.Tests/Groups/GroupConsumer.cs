using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Quill.Broker.Compat.Tests.Groups;

/// <summary>
/// One member of a consumer group (librdkafka through Confluent.Kafka) polling on its own thread. It commits each
/// message synchronously after recording it, so a clean rebalance hands the next owner exactly the next offset.
/// </summary>
public sealed class GroupConsumer : IDisposable
{
    private readonly IConsumer<string, string> _consumer;
    private readonly ConcurrentQueue<(int Partition, long Offset, string Value)> _consumed;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private volatile List<int> _assignment = [];

    public GroupConsumer(string name, string bootstrap, string group, string topic, PartitionAssignmentStrategy strategy,
        ConcurrentQueue<(int, long, string)> consumed)
    {
        Name = name;
        _consumed = consumed;
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = group,
            ClientId = name,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = strategy,
            SessionTimeoutMs = 6000,
            HeartbeatIntervalMs = 500,
        };
        _consumer = new ConsumerBuilder<string, string>(config)
            .SetPartitionsLostHandler((_, lost) => Errors.Enqueue($"{Name} lost {string.Join(",", lost)}"))
            .Build();
        _consumer.Subscribe(topic);
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public string Name { get; }
    /// <summary>Anything that went wrong on the consumer's thread (commit failures, lost partitions).</summary>
    public ConcurrentQueue<string> Errors { get; } = new();
    public IReadOnlyList<int> Assignment => _assignment;
    /// <summary>Every set of partitions this consumer was given, for showing the group spread the work.</summary>
    public ConcurrentQueue<int[]> Assignments { get; } = new();

    private void Run()
    {
        var last = Array.Empty<int>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var result = _consumer.Consume(TimeSpan.FromMilliseconds(100));
                var now = _consumer.Assignment.Select(tp => tp.Partition.Value).Order().ToArray();
                if (!now.SequenceEqual(last))
                {
                    last = now;
                    _assignment = [.. now];
                    if (now.Length > 0) Assignments.Enqueue(now);
                }
                if (result is null || result.IsPartitionEOF) continue;
                _consumed.Enqueue((result.Partition.Value, result.Offset.Value, result.Message.Value));
                _consumer.Commit(result);
            }
        }
        catch (Exception e) when (e is KafkaException or InvalidOperationException)
        {
            Errors.Enqueue($"{Name}: {e.Message}");
        }
    }

    /// <summary>Stops polling and leaves the group cleanly (LeaveGroup).</summary>
    public void Close()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _thread.Join();
        _consumer.Close();
    }

    public void Dispose()
    {
        Close();
        _consumer.Dispose();
        _stop.Dispose();
    }
}
