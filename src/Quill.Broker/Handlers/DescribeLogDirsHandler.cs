using Quill.Broker.Log;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// DescribeLogDirs (v0-4): each configured log dir by absolute path, with the size of each asked-for partition's
/// segments, its offset lag (high watermark minus log end: 0 for a partition this broker serves, -1 for a log on disk
/// it does not), never a future log; v4 adds the volume's total and usable bytes. As in Kafka, every topic with a log
/// in a dir is listed, with only the asked-for partitions (so possibly none); null topics asks for every log.
/// A dir that cannot be read answers KAFKA_STORAGE_ERROR.
/// </summary>
public sealed class DescribeLogDirsHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.DescribeLogDirs;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var logs = services.Replicas.AllLogs.ToList();
        var requested = context.Body.GetArray("Topics");
        var wanted = requested is null
            ? logs.Select(l => (l.Topic, l.Partition)).ToHashSet()
            : requested.SelectMany(t => (t.GetInt32Array("Partitions") ?? []).Select(p => (t.GetString("Topic") ?? "", p))).ToHashSet();

        var response = context.NewResponse();
        foreach (string configured in services.Options.LogDirs.Distinct())
        {
            string dir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(configured));
            var result = response.AddElement("Results").SetString("LogDir", dir);
            try
            {
                var drive = new DriveInfo(dir);
                result.SetInt("TotalBytes", drive.TotalSize).SetInt("UsableBytes", drive.AvailableFreeSpace);
                var inDir = logs.Where(l => string.Equals(Path.GetDirectoryName(Path.GetFullPath(l.Dir)), dir, StringComparison.Ordinal));
                foreach (var topicLogs in inDir.GroupBy(l => l.Topic, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    var topic = result.AddElement("Topics").SetString("Name", topicLogs.Key);
                    foreach (var log in topicLogs.Where(l => wanted.Contains((l.Topic, l.Partition))).OrderBy(l => l.Partition))
                    {
                        topic.AddElement("Partitions")
                            .SetInt("PartitionIndex", log.Partition)
                            .SetInt("PartitionSize", log.Size)
                            .SetInt("OffsetLag", OffsetLag(log))
                            .SetBool("IsFutureKey", false);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                result.SetInt("ErrorCode", (short)KafkaError.KafkaStorageError).SetArray("Topics", []).SetInt("TotalBytes", -1).SetInt("UsableBytes", -1);
            }
        }
        return ValueTask.FromResult(response);
    }

    private long OffsetLag(PartitionLog log) =>
        services.Replicas.Get(log.Topic, log.Partition) is { } partition && ReferenceEquals(partition.Log, log)
            ? Math.Max(partition.HighWatermark - log.LogEndOffset, 0)
            : -1;
}
