using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Commands.Kafka;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;
using ErrorCode = Quill.Keeper.Protocol.ErrorCode;

namespace Quill.Commands;

/// <summary>One source partition of a job: where the job is (its newest checkpoint's offset, its group's committed offset) and the log's end.</summary>
public sealed record PartitionLag(string Topic, int Partition, long? CheckpointOffset, long? GroupOffset, long? EndOffset)
{
    /// <summary>Where the job stands: the newest checkpoint's offset (what a restart reads from), else the group's.</summary>
    public long? Position => CheckpointOffset ?? GroupOffset;

    /// <summary>Records in the log after <see cref="Position"/> (kafka-consumer-groups' LAG); null when either is unknown.</summary>
    public long? Lag => Position is { } position && EndOffset is { } end ? Math.Max(0, end - position) : null;
}

/// <summary>A job's lag: the checkpoint and group it was read from, and each source partition's.</summary>
public sealed record JobLag(string Job, long? CheckpointId, string? CheckpointPath, string? Group, IReadOnlyList<PartitionLag> Partitions)
{
    /// <summary>The sum over the partitions whose lag is known; null if none is.</summary>
    public long? Total => Partitions.Any(p => p.Lag is not null) ? Partitions.Sum(p => p.Lag ?? 0) : null;
}

/// <summary>
/// `quill streams lag` and the lag and savepoint sections of `quill streams list`: a Quill.Streams job's position per
/// source partition against the log's end, as kafka-consumer-groups' LAG. The position is the newest completed
/// checkpoint's source offset (the checkpoint file the newest Keeper pointer names, or the newest chk-*.json in a
/// checkpoint directory), else the job's consumer group's committed offset; both are shown. At-least-once jobs commit
/// each completed checkpoint's offsets to the group, exactly-once jobs with each checkpoint's transaction, so the two
/// agree once a checkpoint completes (after an at-least-once job's clean stop the group may be ahead: it commits what
/// was read last).
/// </summary>
public static class StreamsLag
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The job's lag, its position read through Keeper (<paramref name="jobPath"/>: &lt;root&gt;/&lt;job&gt;).</summary>
    public static async Task<JobLag> ReadAsync(KeeperClient client, string jobPath, IAdminClient admin, string? group, TextWriter warnings, CancellationToken ct)
    {
        string job = jobPath[(jobPath.LastIndexOf('/') + 1)..];
        var pointers = await ChildrenAsync(client, $"{jobPath}/checkpoints", ct);
        string? path = null;
        if (pointers.Count > 0 && await DataAsync(client, $"{jobPath}/checkpoints/{pointers.Order(StringComparer.Ordinal).Last()}", ct) is { } pointer
            && !StreamsCommand.TryPointerPath(pointer, out path))
            warnings.WriteLine($"Warning: job {job}: the newest checkpoint pointer is not JSON with a path: {pointer}");
        return await ReadAsync(job, path, admin, group, job, warnings);
    }

    /// <summary>The job's lag, its position read from the newest checkpoint file in <paramref name="directory"/> (a job without high availability).</summary>
    public static Task<JobLag> ReadFromDirectoryAsync(string directory, IAdminClient admin, string? group, TextWriter warnings)
    {
        string? newest = Directory.Exists(directory) ? Directory.GetFiles(directory, "chk-*.json").Order(StringComparer.Ordinal).LastOrDefault() : null;
        if (newest is null) warnings.WriteLine($"Warning: no checkpoint (chk-*.json) in {directory}");
        return ReadAsync(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))), newest, admin, group, null, warnings);
    }

    /// <param name="group">The job's consumer group as given; null: the exactly-once checkpoint's, else <paramref name="defaultGroup"/>.</param>
    private static async Task<JobLag> ReadAsync(string job, string? checkpointPath, IAdminClient admin, string? group, string? defaultGroup, TextWriter warnings)
    {
        var checkpoint = new Dictionary<TopicPartition, long>();
        long? checkpointId = null;
        if (checkpointPath is not null)
        {
            try
            {
                using var document = JsonDocument.Parse(await File.ReadAllBytesAsync(checkpointPath));
                var root = document.RootElement;
                checkpointId = root.GetProperty("Id").GetInt64();
                foreach (var source in root.GetProperty("SourceOffsets").EnumerateObject())
                    foreach (var partition in source.Value.EnumerateObject())
                        if (ParsePartition(partition.Name) is { } tp) checkpoint[tp] = partition.Value.GetInt64();
                // An exactly-once job's checkpoint names its marker group, "<job's group>.checkpoints".
                if (group is null && root.TryGetProperty("Transaction", out var transaction) && transaction.ValueKind == JsonValueKind.Object
                    && transaction.GetProperty("MarkerGroup").GetString() is { } marker && marker.EndsWith(".checkpoints", StringComparison.Ordinal))
                    group = marker[..^".checkpoints".Length];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                warnings.WriteLine($"Warning: job {job}: cannot read the checkpoint {checkpointPath} ({e.Message}); showing the group's offsets only");
                checkpointId = null;
            }
        }

        group ??= defaultGroup;
        var committed = group is null ? [] : await CommittedAsync(admin, group, checkpoint.Keys.Select(tp => tp.Topic).Distinct().ToList(), warnings);
        // Every partition of the job's source topics, also those it has no position for yet.
        var topics = checkpoint.Keys.Concat(committed.Keys).Select(tp => tp.Topic).Distinct(StringComparer.Ordinal).ToList();
        var partitions = new SortedSet<(string Topic, int Partition)>(checkpoint.Keys.Concat(committed.Keys).Select(tp => (tp.Topic, tp.Partition.Value)));
        foreach (var (topic, ids) in Partitions(admin, topics))
            foreach (int p in ids) partitions.Add((topic, p));
        var ends = await EndOffsetsAsync(admin, [.. partitions.Select(p => new TopicPartition(p.Topic, p.Partition))]);
        var rows = partitions.Select(p =>
        {
            var tp = new TopicPartition(p.Topic, p.Partition);
            return new PartitionLag(p.Topic, p.Partition, checkpoint.TryGetValue(tp, out long c) ? c : null,
                committed.TryGetValue(tp, out long g) ? g : null, ends.TryGetValue(tp, out long e) ? e : null);
        }).ToList();
        return new JobLag(job, checkpointId, checkpointId is null ? null : checkpointPath, group, rows);
    }

    /// <summary>`quill streams lag`: a line saying where the position comes from, then one row per source partition.</summary>
    public static void Write(JobLag lag, TextWriter output)
    {
        output.WriteLine($"job {lag.Job}: checkpoint {(lag.CheckpointId is { } id ? $"{id} ({lag.CheckpointPath})" : "-")}, consumer group {lag.Group ?? "-"}, total lag {lag.Total?.ToString(CultureInfo.InvariantCulture) ?? "-"}");
        output.WriteLine();
        var table = new TextTable("JOB", "TOPIC", "PARTITION", "CHECKPOINT-OFFSET", "GROUP-OFFSET", "LOG-END-OFFSET", "LAG");
        foreach (var p in lag.Partitions) table.Add(lag.Job, p.Topic, p.Partition, p.CheckpointOffset, p.GroupOffset, p.EndOffset, p.Lag);
        table.Write(output);
    }

    /// <summary>
    /// The sections `quill streams list` adds after its instances: each job's newest checkpoint and total lag (when a
    /// broker is known: <paramref name="bootstrap"/>, else the brokers registered in the same Keeper), then the
    /// savepoints listed under each job's savepoints znode.
    /// </summary>
    public static async Task WriteListSectionsAsync(KeeperClient client, string root, string? bootstrap, TextWriter output, CancellationToken ct)
    {
        if (await client.ExistsAsync(root, cancellationToken: ct) is null) return;
        var jobs = (await client.GetChildrenAsync(root, cancellationToken: ct)).Order(StringComparer.Ordinal).ToList();
        if (jobs.Count == 0) return;
        bootstrap ??= await RegisteredBrokersAsync(client, ct);
        var admin = bootstrap is null ? null : new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        using var disposeAdmin = admin;
        bool reachable = admin is not null;
        var lags = new TextTable("JOB", "CHECKPOINT", "GROUP", "PARTITIONS", "LAG");
        var savepoints = new TextTable("JOB", "SAVEPOINT", "CHECKPOINT", "TAKEN", "PATH");
        foreach (string job in jobs)
        {
            string jobPath = $"{root.TrimEnd('/')}/{job}";
            if (!reachable)
                lags.Add(job, "-", "-", "-", "-");
            else
            {
                try
                {
                    var lag = await ReadAsync(client, jobPath, admin!, null, Console.Error, ct);
                    lags.Add(job, lag.CheckpointId, lag.Group, lag.Partitions.Count, lag.Total);
                }
                catch (KafkaException e)
                {
                    // The cluster is out of reach or refuses: the other jobs would wait as long each.
                    Console.Error.WriteLine($"Warning: cannot read the jobs' lag from {bootstrap}: {KafkaErrors.Describe(e)}");
                    lags.Add(job, "-", "-", "-", "-");
                    reachable = false;
                }
            }
            foreach (string name in (await ChildrenAsync(client, $"{jobPath}/savepoints", ct)).Order(StringComparer.Ordinal))
            {
                string? data = await DataAsync(client, $"{jobPath}/savepoints/{name}", ct);
                string? path = null, taken = null;
                long? id = null;
                try
                {
                    var element = JsonDocument.Parse(data ?? "").RootElement;
                    path = element.GetProperty("path").GetString();
                    id = element.GetProperty("id").GetInt64();
                    taken = DateTimeOffset.FromUnixTimeMilliseconds(element.GetProperty("timestamp").GetInt64()).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentOutOfRangeException)
                {
                    path ??= data;
                }
                savepoints.Add(job, name, id, taken, path);
            }
        }
        output.WriteLine();
        if (admin is null) output.WriteLine("(no broker known for the lag: give --bootstrap-server)");
        lags.Write(output);
        if (savepoints.RowCount > 0)
        {
            output.WriteLine();
            savepoints.Write(output);
        }
    }

    /// <summary>The brokers registered in this Keeper (/brokers/ids), as `quill start` has them; null if none.</summary>
    private static async Task<string?> RegisteredBrokersAsync(KeeperClient client, CancellationToken ct)
    {
        var endpoints = await ZookeeperBootstrap.RegisteredEndpointsAsync(client, await ChildrenAsync(client, "/brokers/ids", ct), ct);
        return endpoints.Count == 0 ? null : string.Join(',', endpoints);
    }

    private static TopicPartition? ParsePartition(string name)
    {
        int colon = name.LastIndexOf(':');
        return colon > 0 && int.TryParse(name.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int partition)
            ? new TopicPartition(name[..colon], partition) : null;
    }

    /// <summary>
    /// The group's committed offsets: for the given topics' partitions, or (none given: no checkpoint) every partition it
    /// has offsets for. A group that does not exist has none.
    /// </summary>
    private static async Task<Dictionary<TopicPartition, long>> CommittedAsync(IAdminClient admin, string group, List<string> topics, TextWriter warnings)
    {
        List<TopicPartition>? partitions = topics.Count == 0 ? null
            : [.. Partitions(admin, topics).SelectMany(t => t.Value.Select(p => new TopicPartition(t.Key, p)))];
        try
        {
            var results = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, partitions)],
                new ListConsumerGroupOffsetsOptions { RequestTimeout = Timeout });
            return results.SelectMany(r => r.Partitions).Where(p => !p.Error.IsError && p.Offset.Value >= 0)
                .ToDictionary(p => p.TopicPartition, p => p.Offset.Value);
        }
        catch (ListConsumerGroupOffsetsException e)
        {
            warnings.WriteLine($"Warning: cannot read the offsets of group {group}: {e.Message}");
            return [];
        }
    }

    /// <summary>The partitions of each of <paramref name="topics"/> that exists (metadata of all topics: asking for one by name may create it).</summary>
    private static Dictionary<string, List<int>> Partitions(IAdminClient admin, List<string> topics) =>
        topics.Count == 0 ? []
            : admin.GetMetadata(Timeout).Topics.Where(t => !t.Error.IsError && topics.Contains(t.Topic))
                .ToDictionary(t => t.Topic, t => t.Partitions.Select(p => p.PartitionId).Order().ToList());

    private static async Task<Dictionary<TopicPartition, long>> EndOffsetsAsync(IAdminClient admin, IReadOnlyList<TopicPartition> partitions)
    {
        if (partitions.Count == 0) return [];
        ListOffsetsResult result;
        try
        {
            result = await admin.ListOffsetsAsync(partitions.Select(tp => new TopicPartitionOffsetSpec { TopicPartition = tp, OffsetSpec = OffsetSpec.Latest() }),
                new ListOffsetsOptions { RequestTimeout = Timeout });
        }
        catch (ListOffsetsException e)
        {
            // Some partitions failed (no leader just now): the others still count.
            return e.Result.ResultInfos.Where(r => !r.TopicPartitionOffsetError.Error.IsError)
                .ToDictionary(r => r.TopicPartitionOffsetError.TopicPartition, r => r.TopicPartitionOffsetError.Offset.Value);
        }
        return result.ResultInfos.Where(r => !r.TopicPartitionOffsetError.Error.IsError)
            .ToDictionary(r => r.TopicPartitionOffsetError.TopicPartition, r => r.TopicPartitionOffsetError.Offset.Value);
    }

    private static Task<IReadOnlyList<string>> ChildrenAsync(KeeperClient client, string path, CancellationToken ct) =>
        StreamsCommand.ChildrenAsync(client, path, ct);

    private static Task<string?> DataAsync(KeeperClient client, string path, CancellationToken ct) => StreamsCommand.DataAsync(client, path, ct);
}
