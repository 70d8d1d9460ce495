using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Streams.Api;
using Quill.Streams.Connectors.Kafka;

namespace Quill.Streams.Checkpoints;

/// <summary>
/// An at-least-once job restoring from a directory (or Keeper pointers) an exactly-once run wrote: the newest
/// checkpoint may be one whose output transaction never committed (the run died between writing it and committing).
/// Restoring it would skip that epoch's input, whose output was aborted; so, as the exactly-once restart does, the
/// checkpoint's transactional ids are initialized (aborting a transaction left open, or letting a commit in progress
/// finish) and the marker group read: if its committed marker is not the checkpoint's, the checkpoint is deleted and the
/// one before it (committed: the next is triggered only after its commit) is restored.
/// </summary>
internal static class CommittedCheckpoints
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static Checkpoint? LoadLatest(StreamJobOptions options, ICheckpointStore? storage)
    {
        var newest = storage?.LoadLatest();
        if (newest?.Transaction is not { } transaction) return newest; // none, or written at-least-once
        foreach (string id in TransactionalIds(transaction.TransactionalId))
        {
            var config = KafkaClientConfigs.Producer(options);
            config.TransactionalId = id;
            using var producer = new ProducerBuilder<byte[]?, byte[]?>(config).Build();
            producer.InitTransactions(Timeout);
        }
        using var admin = new AdminClientBuilder(KafkaClientConfigs.Admin(options)).Build();
        // The marker group holds one offset (the exactly-once run's marker partition), committed with each checkpoint.
        var committed = admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(transaction.MarkerGroup, null)],
                new ListConsumerGroupOffsetsOptions { RequestTimeout = Timeout })
            .GetAwaiter().GetResult()
            .SelectMany(r => r.Partitions).Where(p => !p.Error.IsError).Select(p => p.Offset.Value);
        if (committed.Contains(transaction.Marker)) return newest;
        storage!.Delete(newest.Id);
        return storage.LoadLatest();
    }

    /// <summary>The checkpoint's transactional id and the other of the pair (<c>&lt;job&gt;.output-0</c> and <c>-1</c>).</summary>
    private static IEnumerable<string> TransactionalIds(string id)
    {
        yield return id;
        if (id.EndsWith("-0", StringComparison.Ordinal)) yield return id[..^1] + "1";
        else if (id.EndsWith("-1", StringComparison.Ordinal)) yield return id[..^1] + "0";
    }
}
