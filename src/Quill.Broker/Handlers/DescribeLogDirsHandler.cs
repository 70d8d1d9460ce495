using Quill.Broker.Log;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// DescribeLogDirs (v0-4): each configured log dir by absolute path, with the size of each asked-for partition's
/// segments, its offset lag (high watermark minus log end: 0 for a partition this broker serves, -1 for a log on disk
/// it does not), never a future log; v4 adds the volume's total and usable bytes. As in Kafka, every topic with a log
/// in a dir is listed, with only the asked-for partitions (so possibly none); null topics asks for every log.
/// A dir that cannot be read answers KAFKA_STORAGE_ERROR.
/// </summary>
public sealed class DescribeLogDirsHandler(BrokerServices services) : ApiHandler<DescribeLogDirsRequestData, DescribeLogDirsResponseData>
{
    public override ApiKey ApiKey => ApiKey.DescribeLogDirs;

    public override ValueTask<DescribeLogDirsResponseData> HandleAsync(DescribeLogDirsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var logs = services.Replicas.AllLogs.ToList();
        var requested = request.Topics;
        var wanted = requested is null
            ? logs.Select(l => (l.Topic, l.Partition)).ToHashSet()
            : requested.SelectMany(t => t.Partitions.Select(p => (t.Topic, p))).ToHashSet();

        var response = new DescribeLogDirsResponseData();
        foreach (string configured in services.Options.LogDirs.Distinct())
        {
            string dir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(configured));
            var result = new DescribeLogDirsResponseData.ResultsItem { LogDir = dir };
            response.Results.Add(result);
            try
            {
                var drive = new DriveInfo(dir);
                result.TotalBytes = drive.TotalSize;
                result.UsableBytes = drive.AvailableFreeSpace;
                var inDir = logs.Where(l => string.Equals(Path.GetDirectoryName(Path.GetFullPath(l.Dir)), dir, StringComparison.Ordinal));
                foreach (var topicLogs in inDir.GroupBy(l => l.Topic, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    var topic = new DescribeLogDirsResponseData.ResultsItem.TopicsItem { Name = topicLogs.Key };
                    result.Topics.Add(topic);
                    foreach (var log in topicLogs.Where(l => wanted.Contains((l.Topic, l.Partition))).OrderBy(l => l.Partition))
                    {
                        topic.Partitions.Add(new DescribeLogDirsResponseData.ResultsItem.TopicsItem.PartitionsItem
                        {
                            PartitionIndex = log.Partition,
                            PartitionSize = log.Size,
                            OffsetLag = OffsetLag(log),
                            IsFutureKey = false,
                        });
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // Nothing half-listed: whatever this dir gave before failing is dropped.
                result.ErrorCode = (short)KafkaError.KafkaStorageError;
                result.Topics = [];
                result.TotalBytes = -1;
                result.UsableBytes = -1;
            }
        }
        return ValueTask.FromResult(response);
    }

    private long OffsetLag(PartitionLog log) =>
        services.Replicas.Get(log.Topic, log.Partition) is { } partition && ReferenceEquals(partition.Log, log)
            ? Math.Max(partition.HighWatermark - log.LogEndOffset, 0)
            : -1;
}
