using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Broker.Metadata;
using Quill.Kafka.Messages;

namespace Quill.Commands.Kafka;

/// <summary>
/// `quill reassign-partitions`, as kafka-reassign-partitions.sh: --generate proposes an assignment of the topics in
/// --topics-to-move-json-file over --broker-list; --execute starts the moves in --reassignment-json-file (printing the
/// current assignment to roll back to); --verify reports each partition as completed or still in progress; --cancel
/// stops the moves; --list shows the moves in progress. The JSON files are Kafka's ({"version":1,"partitions":[...]}).
/// The moves go to the controller with AlterPartitionReassignments, which librdkafka does not send, so this tool sends
/// it on its own connection; the current assignment comes from metadata.
/// </summary>
public static class ReassignPartitionsCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var bootstrap = new Option<string?>("--bootstrap-server") { Description = $"host:port[,host:port...] of Kafka brokers (default {KafkaToolOptions.DefaultBootstrap})." };
        var commandConfig = new Option<FileInfo?>("--command-config") { Description = "A properties file of client settings (key=value lines)." };
        var generate = new Option<bool>("--generate") { Description = "Propose an assignment of the topics in --topics-to-move-json-file over --broker-list." };
        var execute = new Option<bool>("--execute") { Description = "Start the reassignment in --reassignment-json-file." };
        var verify = new Option<bool>("--verify") { Description = "Report whether each reassignment in --reassignment-json-file is complete." };
        var cancel = new Option<bool>("--cancel") { Description = "Cancel the reassignments in --reassignment-json-file that are in progress." };
        var list = new Option<bool>("--list") { Description = "List the reassignments in progress." };
        var topicsFile = new Option<FileInfo?>("--topics-to-move-json-file") { Description = "With --generate: {\"topics\":[{\"topic\":\"t\"}],\"version\":1}." };
        var brokerList = new Option<string?>("--broker-list") { Description = "With --generate: the broker ids to spread the replicas over, e.g. 1,2,3." };
        var reassignmentFile = new Option<FileInfo?>("--reassignment-json-file") { Description = "With --execute, --verify, --cancel: the assignment as --generate prints it." };
        var command = new Command("reassign-partitions", "Move partitions between brokers (as kafka-reassign-partitions.sh).")
        {
            bootstrap, commandConfig, generate, execute, verify, cancel, list, topicsFile, brokerList, reassignmentFile,
        };
        command.SetAction((parse, ct) => KafkaTool.RunAsync("reassign-partitions", async () =>
        {
            var actions = new[] { generate, execute, verify, cancel, list }.Where(o => parse.GetValue(o)).ToList();
            if (actions.Count != 1) throw new ToolException("give exactly one of --generate, --execute, --verify, --cancel, --list");
            var config = new AdminClientConfig { BootstrapServers = parse.GetValue(bootstrap) ?? KafkaToolOptions.DefaultBootstrap };
            if (parse.GetValue(commandConfig) is { } file)
            {
                if (!file.Exists) throw new ToolException($"{file.FullName}: no such file");
                foreach (var (key, value) in KeyValues.ParsePropertiesFile(File.ReadAllLines(file.FullName))) config.Set(key, value);
            }
            using var admin = new AdminClientBuilder(config).Build();
            if (parse.GetValue(generate))
            {
                var topics = ReadTopicsToMove(Required(parse.GetValue(topicsFile), "--generate needs --topics-to-move-json-file"));
                var brokers = ParseBrokerList(parse.GetValue(brokerList) ?? throw new ToolException("--generate needs --broker-list"));
                return Generate(admin, topics, brokers);
            }
            if (parse.GetValue(list)) return await ListAsync(admin, ct);
            var wanted = ReadReassignment(Required(parse.GetValue(reassignmentFile), $"{actions[0].Name} needs --reassignment-json-file"));
            if (parse.GetValue(execute)) return await ExecuteAsync(admin, wanted, ct);
            if (parse.GetValue(verify)) return await VerifyAsync(admin, wanted, ct);
            return await CancelAsync(admin, wanted, ct);
        }));
        return command;
    }

    private static FileInfo Required(FileInfo? file, string missing)
    {
        if (file is null) throw new ToolException(missing);
        if (!file.Exists) throw new ToolException($"{file.FullName}: no such file");
        return file;
    }

    private static int Generate(IAdminClient admin, List<string> topics, List<int> brokers)
    {
        var current = CurrentAssignment(admin, topics);
        var proposed = new SortedDictionary<(string, int), int[]>();
        foreach (var topic in topics)
        {
            var partitions = current.Where(c => c.Key.Topic == topic).ToList();
            int replicationFactor = partitions[0].Value.Length;
            if (replicationFactor > brokers.Count)
                throw new ToolException($"{topic} has replication factor {replicationFactor}, more than the {brokers.Count} brokers of --broker-list", ExitCodes.Failed);
            var placed = ReplicaPlacement.Assign(partitions.Count, replicationFactor, [.. brokers.Select(id => new BrokerInfo(id, "", 0, null))]);
            foreach (var (partition, replicas) in placed) proposed[(topic, partition)] = replicas;
        }
        Console.WriteLine("Current partition replica assignment");
        Console.WriteLine(AssignmentJson(current));
        Console.WriteLine();
        Console.WriteLine("Proposed partition reassignment configuration");
        Console.WriteLine(AssignmentJson(proposed));
        return ExitCodes.Ok;
    }

    private static async Task<int> ExecuteAsync(IAdminClient admin, SortedDictionary<(string Topic, int Partition), int[]> wanted, CancellationToken ct)
    {
        var current = CurrentAssignment(admin, wanted.Keys.Select(k => k.Topic).Distinct());
        foreach (var key in wanted.Keys)
            if (!current.ContainsKey(key)) throw new ToolException($"{Name(key)} does not exist", ExitCodes.Failed);
        Console.WriteLine("Current partition replica assignment");
        Console.WriteLine();
        Console.WriteLine(AssignmentJson(new SortedDictionary<(string, int), int[]>(current.Where(c => wanted.ContainsKey(c.Key)).ToDictionary())));
        Console.WriteLine();
        Console.WriteLine("Save this to use as the --reassignment-json-file option during rollback");
        var errors = await AlterAsync(admin, wanted.ToDictionary(w => w.Key, w => (int[]?)w.Value), ct);
        if (errors.Count > 0)
        {
            foreach (var (key, error) in errors) Console.Error.WriteLine($"Error reassigning partition(s): {Name(key)}: {error}");
            return ExitCodes.Failed;
        }
        Console.WriteLine($"Successfully started partition reassignments for {string.Join(",", wanted.Keys.Select(Name))}");
        return ExitCodes.Ok;
    }

    private static async Task<int> VerifyAsync(IAdminClient admin, SortedDictionary<(string Topic, int Partition), int[]> wanted, CancellationToken ct)
    {
        var moving = await InProgressAsync(admin, ct);
        var current = CurrentAssignment(admin, wanted.Keys.Select(k => k.Topic).Distinct());
        Console.WriteLine("Status of partition reassignment:");
        foreach (var (key, target) in wanted)
        {
            if (moving.ContainsKey(key)) Console.WriteLine($"Reassignment of partition {Name(key)} is still in progress.");
            else if (current.TryGetValue(key, out var replicas) && replicas.SequenceEqual(target)) Console.WriteLine($"Reassignment of partition {Name(key)} is completed.");
            else Console.WriteLine($"There is no active reassignment of partition {Name(key)}, but replica set is {Ids(current.GetValueOrDefault(key) ?? [])} rather than {Ids(target)}.");
        }
        return ExitCodes.Ok;
    }

    private static async Task<int> CancelAsync(IAdminClient admin, SortedDictionary<(string Topic, int Partition), int[]> wanted, CancellationToken ct)
    {
        var moving = await InProgressAsync(admin, ct);
        var toCancel = wanted.Keys.Where(moving.ContainsKey).ToList();
        var errors = await AlterAsync(admin, toCancel.ToDictionary(k => k, _ => (int[]?)null), ct);
        foreach (var (key, error) in errors) Console.Error.WriteLine($"Error cancelling the reassignment of {Name(key)}: {error}");
        var cancelled = toCancel.Where(k => !errors.ContainsKey(k)).ToList();
        Console.WriteLine(cancelled.Count == 0 ? "None of the specified partition reassignments are active."
            : $"Successfully cancelled partition reassignments for: {string.Join(",", cancelled.Select(Name))}");
        return errors.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static async Task<int> ListAsync(IAdminClient admin, CancellationToken ct)
    {
        var moving = await InProgressAsync(admin, ct);
        if (moving.Count == 0)
        {
            Console.WriteLine("No partition reassignments found.");
            return ExitCodes.Ok;
        }
        Console.WriteLine("Current partition reassignments:");
        foreach (var (key, p) in moving)
            Console.WriteLine($"{Name(key)}: replicas: {Ids(p.Replicas)}. adding: {Ids(p.AddingReplicas)}. removing: {Ids(p.RemovingReplicas)}.");
        return ExitCodes.Ok;
    }

    /// <summary>Each partition's replicas now, from metadata.</summary>
    private static SortedDictionary<(string Topic, int Partition), int[]> CurrentAssignment(IAdminClient admin, IEnumerable<string> topics)
    {
        var result = new SortedDictionary<(string, int), int[]>();
        foreach (string topic in topics)
        {
            var metadata = admin.GetMetadata(topic, Timeout).Topics.Single();
            if (metadata.Error.Code != ErrorCode.NoError || metadata.Partitions.Count == 0)
                throw new ToolException($"topic {topic}: {(metadata.Error.Code == ErrorCode.NoError ? "it has no partitions" : metadata.Error.Reason)}", ExitCodes.Failed);
            foreach (var p in metadata.Partitions) result[(topic, p.PartitionId)] = p.Replicas;
        }
        return result;
    }

    /// <summary>Sends the moves (null: cancel) to the controller; the partitions it refused, with why.</summary>
    private static async Task<Dictionary<(string Topic, int Partition), string>> AlterAsync(IAdminClient admin,
        Dictionary<(string Topic, int Partition), int[]?> moves, CancellationToken ct)
    {
        var errors = new Dictionary<(string, int), string>();
        if (moves.Count == 0) return errors;
        var request = new AlterPartitionReassignmentsRequestData { TimeoutMs = (int)Timeout.TotalMilliseconds };
        foreach (var topic in moves.GroupBy(m => m.Key.Topic))
        {
            var item = new AlterPartitionReassignmentsRequestData.TopicsItem { Name = topic.Key };
            foreach (var (key, replicas) in topic)
                item.Partitions.Add(new AlterPartitionReassignmentsRequestData.TopicsItem.PartitionsItem { PartitionIndex = key.Partition, Replicas = replicas is null ? null : [.. replicas] });
            request.Topics.Add(item);
        }
        using var controller = await ConnectToControllerAsync(admin, ct);
        var response = await controller.RequestAsync<AlterPartitionReassignmentsResponseData>(request, 0, ct);
        if (response.ErrorCode != 0) throw new ToolException(Describe(response.ErrorCode, response.ErrorMessage), ExitCodes.Failed);
        foreach (var topic in response.Responses)
            foreach (var p in topic.Partitions.Where(p => p.ErrorCode != 0))
                errors[(topic.Name, p.PartitionIndex)] = Describe(p.ErrorCode, p.ErrorMessage);
        return errors;
    }

    private static async Task<SortedDictionary<(string Topic, int Partition), ListPartitionReassignmentsResponseData.TopicsItem.PartitionsItem>> InProgressAsync(
        IAdminClient admin, CancellationToken ct)
    {
        using var controller = await ConnectToControllerAsync(admin, ct);
        var response = await controller.RequestAsync<ListPartitionReassignmentsResponseData>(
            new ListPartitionReassignmentsRequestData { TimeoutMs = (int)Timeout.TotalMilliseconds, Topics = null }, 0, ct);
        if (response.ErrorCode != 0) throw new ToolException(Describe(response.ErrorCode, response.ErrorMessage), ExitCodes.Failed);
        var result = new SortedDictionary<(string, int), ListPartitionReassignmentsResponseData.TopicsItem.PartitionsItem>();
        foreach (var topic in response.Topics)
            foreach (var p in topic.Partitions) result[(topic.Name, p.PartitionIndex)] = p;
        return result;
    }

    private static async Task<KafkaRequestConnection> ConnectToControllerAsync(IAdminClient admin, CancellationToken ct)
    {
        DescribeClusterResult cluster;
        try
        {
            cluster = await admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = Timeout }).WaitAsync(Timeout * 2, ct);
        }
        catch (TimeoutException)
        {
            throw new ToolException("the cluster did not say which broker is the controller", ExitCodes.Failed);
        }
        if (cluster.Controller is not { } controller) throw new ToolException("the cluster has no controller now", ExitCodes.Failed);
        return await KafkaRequestConnection.ConnectAsync(controller.Host, controller.Port, Timeout, ct);
    }

    private static List<string> ReadTopicsToMove(FileInfo file)
    {
        var json = ParseJson(file);
        var topics = (json["topics"] as JsonArray)?.Select(t => t?["topic"]?.GetValue<string>()).ToList();
        if (topics is null || topics.Count == 0 || topics.Any(t => string.IsNullOrEmpty(t)))
            throw new ToolException($"{file.Name}: expected {{\"topics\":[{{\"topic\":\"name\"}}],\"version\":1}}");
        return [.. topics.OfType<string>().Distinct()];
    }

    private static SortedDictionary<(string Topic, int Partition), int[]> ReadReassignment(FileInfo file)
    {
        var json = ParseJson(file);
        var result = new SortedDictionary<(string, int), int[]>();
        if (json["partitions"] is not JsonArray partitions || partitions.Count == 0)
            throw new ToolException($"{file.Name}: expected {{\"version\":1,\"partitions\":[{{\"topic\":\"t\",\"partition\":0,\"replicas\":[1,2]}}]}}");
        foreach (var p in partitions)
        {
            string? topic = p?["topic"]?.GetValue<string>();
            int? partition = p?["partition"]?.GetValue<int>();
            var replicas = (p?["replicas"] as JsonArray)?.Select(r => r!.GetValue<int>()).ToArray();
            if (topic is null || partition is null || replicas is null || replicas.Length == 0)
                throw new ToolException($"{file.Name}: every partition needs \"topic\", \"partition\" and a non-empty \"replicas\" list");
            if (replicas.Distinct().Count() != replicas.Length) throw new ToolException($"{file.Name}: {topic}-{partition} lists a broker twice in {Ids(replicas)}");
            if (!result.TryAdd((topic, partition.Value), replicas)) throw new ToolException($"{file.Name}: {topic}-{partition} appears twice");
        }
        return result;
    }

    private static JsonNode ParseJson(FileInfo file)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(file.FullName)) ?? throw new ToolException($"{file.Name}: empty");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ToolException($"{file.Name}: not JSON ({e.Message})");
        }
        catch (InvalidOperationException e)
        {
            throw new ToolException($"{file.Name}: unexpected JSON ({e.Message})");
        }
    }

    private static List<int> ParseBrokerList(string text)
    {
        var ids = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int id)) throw new ToolException($"--broker-list: '{part}' is not a broker id");
            if (!ids.Contains(id)) ids.Add(id);
        }
        if (ids.Count == 0) throw new ToolException("--broker-list is empty");
        return ids;
    }

    /// <summary>Kafka's reassignment JSON: {"version":1,"partitions":[{"topic":..,"partition":..,"replicas":[..],"log_dirs":["any",..]}]}.</summary>
    internal static string AssignmentJson(SortedDictionary<(string Topic, int Partition), int[]> assignment)
    {
        var partitions = new JsonArray();
        foreach (var ((topic, partition), replicas) in assignment)
            partitions.Add(new JsonObject
            {
                ["topic"] = topic,
                ["partition"] = partition,
                ["replicas"] = new JsonArray([.. replicas.Select(r => (JsonNode)r)]),
                ["log_dirs"] = new JsonArray([.. replicas.Select(_ => (JsonNode)"any")]),
            });
        return new JsonObject { ["version"] = 1, ["partitions"] = partitions }.ToJsonString();
    }

    private static string Describe(short code, string? message) =>
        $"{KafkaErrors.CodeName((ErrorCode)code)}{(string.IsNullOrEmpty(message) ? "" : ": " + message)}";

    private static string Name((string Topic, int Partition) key) => $"{key.Topic}-{key.Partition}";

    private static string Ids(IEnumerable<int> ids) => string.Join(",", ids);
}
