using System.CommandLine;
using System.Text;
using System.Text.Json;
using Quill.Commands.Kafka;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Commands;

/// <summary>
/// `quill streams`: the highly available Quill.Streams jobs registered in Keeper (docs/streams.md has the znode
/// layout): `list` shows each job's instances (leader, standbys), its retained checkpoints and counter; `savepoint`
/// asks a job's leader for a savepoint through a request znode and prints where it was written.
/// </summary>
public static class StreamsCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var keeper = new Option<string>("--keeper") { Description = "Keeper (or ZooKeeper) connect string, host:port[,...] (default 127.0.0.1:2181).", DefaultValueFactory = _ => "127.0.0.1:2181" };
        var root = new Option<string>("--root") { Description = "The jobs' HA root znode (default /quill-streams).", DefaultValueFactory = _ => "/quill-streams" };

        var bootstrap = new Option<string?>("--bootstrap-server") { Description = "host:port[,...] of the cluster the jobs read (default: the brokers registered in the same Keeper)." };
        var list = new Command("list", "Each job under the HA root: its instances (leader first, then standbys in line), retained checkpoints, next checkpoint id; then each job's newest checkpoint and total lag, and its savepoints.")
        {
            keeper, root, bootstrap,
        };
        list.SetAction((parse, ct) => KafkaTool.RunAsync("streams list", async () =>
        {
            await using var client = await ConnectAsync(parse.GetValue(keeper)!, ct);
            await ListAsync(client, parse.GetValue(root)!, Console.Out, ct);
            await StreamsLag.WriteListSectionsAsync(client, parse.GetValue(root)!, parse.GetValue(bootstrap), Console.Out, ct);
            return ExitCodes.Ok;
        }));

        var job = new Option<string>("--job-id") { Description = "The job's id (its znode under the root).", Required = true };
        var directory = new Option<string?>("--directory") { Description = "Where to write the savepoint (default: the job's savepoint directory)." };
        var timeout = new Option<int>("--timeout-ms") { Description = "How long to wait for the leader's answer (default 60000).", DefaultValueFactory = _ => 60_000 };
        var savepoint = new Command("savepoint", "Ask the job's leader for a savepoint (a request znode it watches) and print the savepoint's path.")
        {
            keeper, root, job, directory, timeout,
        };
        savepoint.SetAction((parse, ct) => KafkaTool.RunAsync("streams savepoint", async () =>
        {
            await using var client = await ConnectAsync(parse.GetValue(keeper)!, ct);
            string dir = parse.GetValue(directory) is { } d ? Path.GetFullPath(d) : "";
            return await SavepointAsync(client, $"{parse.GetValue(root)!.TrimEnd('/')}/{parse.GetValue(job)}", dir.Length == 0 ? null : dir,
                TimeSpan.FromMilliseconds(parse.GetValue(timeout)), ct);
        }));

        return new Command("streams", "Highly available Quill.Streams jobs in Keeper: list them, show their lag, trigger savepoints.") { list, savepoint, CreateLag(keeper, root) };
    }

    /// <summary>`quill streams lag`: per source partition, the job's checkpoint and group offsets, the log's end and the lag.</summary>
    private static Command CreateLag(Option<string> keeper, Option<string> root)
    {
        var cluster = new KafkaToolOptions();
        var job = new Option<string?>("--job-id") { Description = "The job's id under the HA root: its position is the checkpoint the newest Keeper pointer names." };
        var checkpointDir = new Option<string?>("--checkpoint-dir") { Description = "Instead of --job-id, for a job without high availability: its checkpoint directory (the newest chk-*.json)." };
        var group = new Option<string?>("--group") { Description = "The job's consumer group (default: the exactly-once checkpoint's, else the job id)." };
        var lag = new Command("lag", "A job's lag per source partition: its newest checkpoint's offset, its consumer group's committed offset, the log-end offset and the lag (log end minus the checkpoint's offset, else the group's).")
        {
            keeper, root, job, checkpointDir, group,
        };
        cluster.AddTo(lag);
        lag.SetAction((parse, ct) => KafkaTool.RunAsync("streams lag", async () =>
        {
            if (parse.GetValue(job) is null == parse.GetValue(checkpointDir) is null) throw new ToolException("give --job-id (a job in Keeper) or --checkpoint-dir");
            using var admin = new Confluent.Kafka.AdminClientBuilder(await cluster.ClientConfigAsync(parse, ct)).Build();
            JobLag result;
            if (parse.GetValue(job) is { } id)
            {
                await using var client = await ConnectAsync(parse.GetValue(keeper)!, ct);
                string jobPath = $"{parse.GetValue(root)!.TrimEnd('/')}/{id}";
                if (await client.ExistsAsync(jobPath, cancellationToken: ct) is null) throw new ToolException($"no job at {jobPath}", ExitCodes.Failed);
                result = await StreamsLag.ReadAsync(client, jobPath, admin, parse.GetValue(group), Console.Error, ct);
            }
            else
                result = await StreamsLag.ReadFromDirectoryAsync(parse.GetValue(checkpointDir)!, admin, parse.GetValue(group), Console.Error);
            StreamsLag.Write(result, Console.Out);
            return ExitCodes.Ok;
        }));
        return lag;
    }

    private static Task<KeeperClient> ConnectAsync(string connect, CancellationToken ct) =>
        KeeperClient.ConnectAsync(connect, new KeeperClientOptions { SessionTimeout = TimeSpan.FromSeconds(10) }, ct);

    public static async Task ListAsync(KeeperClient client, string root, TextWriter output, CancellationToken ct)
    {
        if (await client.ExistsAsync(root, cancellationToken: ct) is null)
        {
            output.WriteLine($"no jobs ({root} does not exist)");
            return;
        }
        var table = new TextTable("JOB", "INSTANCE", "ROLE", "HOST", "PID", "CHECKPOINTS", "NEWEST-CHECKPOINT", "NEXT-ID");
        foreach (string jobId in (await client.GetChildrenAsync(root, cancellationToken: ct)).Order(StringComparer.Ordinal))
        {
            string jobPath = $"{root.TrimEnd('/')}/{jobId}";
            // The election decides the roles: the lowest latch node leads, the others wait in their order.
            var latch = (await ChildrenAsync(client, $"{jobPath}/leader", ct)).OrderBy(c => c[^Math.Min(10, c.Length)..], StringComparer.Ordinal).ToList();
            var inLine = new List<string>();
            foreach (string node in latch)
                if (await DataAsync(client, $"{jobPath}/leader/{node}", ct) is { } id) inLine.Add(id);
            var checkpoints = (await ChildrenAsync(client, $"{jobPath}/checkpoints", ct)).Order(StringComparer.Ordinal).ToList();
            string newest = checkpoints.Count == 0 ? "-"
                : await DataAsync(client, $"{jobPath}/checkpoints/{checkpoints[^1]}", ct) is { } pointer ? PointerText(pointer) : "-";
            string counter = await DataAsync(client, $"{jobPath}/checkpoint-counter", ct) ?? "-";
            string ids = checkpoints.Count == 0 ? "-" : string.Join(",", checkpoints.Select(c => c.TrimStart('0') is { Length: > 0 } t ? t : "0"));
            var instances = (await ChildrenAsync(client, $"{jobPath}/instances", ct)).ToHashSet(StringComparer.Ordinal);
            var rows = inLine.Concat(instances.Where(i => !inLine.Contains(i)).Order(StringComparer.Ordinal)).ToList();
            if (rows.Count == 0) table.Add(jobId, "-", "-", "-", "-", ids, newest, counter);
            foreach (string instance in rows)
            {
                int place = inLine.IndexOf(instance);
                string role = place == 0 ? "leader" : place > 0 ? "standby" : "starting";
                string host = "-", pid = "-";
                if (await DataAsync(client, $"{jobPath}/instances/{instance}", ct) is { } info)
                {
                    try
                    {
                        var element = JsonDocument.Parse(info).RootElement;
                        host = element.TryGetProperty("host", out var h) ? h.GetString() ?? "-" : "-";
                        pid = element.TryGetProperty("pid", out var p) ? p.ToString() : "-";
                    }
                    catch (JsonException)
                    {
                    }
                }
                table.Add(jobId, instance, role, host, pid, ids, newest, counter);
            }
        }
        table.Write(output);
        await WriteTasksAsync(client, root, output, ct);
    }

    /// <summary>
    /// Which instance runs which subtasks, from each job's assignment znode (written by its leader: with scale-out the
    /// subtasks are spread over the instances, otherwise the leader runs them all); nothing for jobs without one.
    /// </summary>
    private static async Task WriteTasksAsync(KeeperClient client, string root, TextWriter output, CancellationToken ct)
    {
        var table = new TextTable("GENERATION", "JOB", "INSTANCE", "SUBTASKS", "OF", "ENDPOINT", "RESTORED-FROM");
        int rows = 0;
        foreach (string jobId in (await client.GetChildrenAsync(root, cancellationToken: ct)).Order(StringComparer.Ordinal))
        {
            if (await DataAsync(client, $"{root.TrimEnd('/')}/{jobId}/assignment", ct) is not { } data) continue;
            try
            {
                var assignment = JsonDocument.Parse(data).RootElement;
                string generation = assignment.GetProperty("generation").ToString();
                string parallelism = assignment.GetProperty("parallelism").ToString();
                string from = assignment.TryGetProperty("checkpoint", out var c) && c.GetString() is { } path ? path : "-";
                foreach (var instance in assignment.GetProperty("instances").EnumerateArray())
                {
                    string subtasks = string.Join(",", instance.GetProperty("subtasks").EnumerateArray().Select(s => s.GetInt32()));
                    string endpoint = instance.TryGetProperty("endpoint", out var e) && e.GetString() is { } address ? address : "-";
                    table.Add(generation, jobId, instance.GetProperty("instance").GetString() ?? "-", subtasks, parallelism, endpoint, from);
                    rows++;
                }
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                // Not an assignment this tool understands: left out.
            }
        }
        if (rows == 0) return;
        output.WriteLine();
        table.Write(output);
    }

    private static string PointerText(string pointer) => TryPointerPath(pointer, out string? path) ? path ?? "-" : pointer;

    /// <summary>The checkpoint file a pointer znode's JSON names; false if the data is not JSON with a path.</summary>
    internal static bool TryPointerPath(string pointer, out string? path)
    {
        try
        {
            path = JsonDocument.Parse(pointer).RootElement.GetProperty("path").GetString();
            return true;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            path = null;
            return false;
        }
    }

    public static async Task<int> SavepointAsync(KeeperClient client, string jobPath, string? directory, TimeSpan timeout, CancellationToken ct)
    {
        if (await client.ExistsAsync($"{jobPath}/savepoint-requests", cancellationToken: ct) is null)
            throw new ToolException($"no job at {jobPath} (no savepoint-requests znode)", ExitCodes.Failed);
        var leaders = await ChildrenAsync(client, $"{jobPath}/leader", ct);
        if (leaders.Count == 0) throw new ToolException($"the job at {jobPath} has no running instance", ExitCodes.Failed);
        byte[] request = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string?> { ["directory"] = directory }, Json);
        string path = await client.CreateAsync($"{jobPath}/savepoint-requests/request-", request, mode: CreateMode.PersistentSequential, cancellationToken: ct);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            while (true)
            {
                var changed = new KeeperWatch();
                var node = await client.GetDataAsync(path, changed, deadline.Token);
                var answer = JsonDocument.Parse(node.Data).RootElement;
                if (answer.TryGetProperty("status", out var status) && status.GetString() is { } s)
                {
                    if (s == "completed")
                    {
                        Console.WriteLine(answer.GetProperty("path").GetString());
                        return ExitCodes.Ok;
                    }
                    Console.Error.WriteLine($"quill streams savepoint: the savepoint failed: {(answer.TryGetProperty("error", out var e) ? e.GetString() : s)}");
                    return ExitCodes.Failed;
                }
                try
                {
                    await changed.Fired.WaitAsync(deadline.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new ToolException($"no answer from the job's leader within {timeout.TotalSeconds:0.#} s", ExitCodes.Failed);
                }
            }
        }
        finally
        {
            await client.DeleteIfExistsAsync(path, CancellationToken.None);
        }
    }

    /// <summary>A znode's children; none if it does not exist.</summary>
    internal static async Task<IReadOnlyList<string>> ChildrenAsync(KeeperClient client, string path, CancellationToken ct)
    {
        try
        {
            return await client.GetChildrenAsync(path, cancellationToken: ct);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return [];
        }
    }

    /// <summary>A znode's data as UTF-8 text; null if it does not exist.</summary>
    internal static async Task<string?> DataAsync(KeeperClient client, string path, CancellationToken ct)
    {
        try
        {
            return Encoding.UTF8.GetString((await client.GetDataAsync(path, cancellationToken: ct)).Data);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return null;
        }
    }
}
