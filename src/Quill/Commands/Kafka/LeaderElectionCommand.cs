using System.CommandLine;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Commands.Kafka;

/// <summary>
/// `quill leader-election`: kafka-leader-election.sh with the same flags (--election-type PREFERRED|UNCLEAN, --topic
/// with --partition, or --all-topic-partitions) and the same report lines. Exit code 1 when any election failed.
/// </summary>
public static class LeaderElectionCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var cluster = new KafkaToolOptions("--admin.config");
        var electionType = new Option<string?>("--election-type") { Description = "PREFERRED (the first replica leads again) or UNCLEAN (a partition with no live leader gets any live replica)." };
        var topic = new Option<string?>("--topic") { Description = "The topic of the partition to elect a leader for (with --partition)." };
        var partition = new Option<int?>("--partition") { Description = "The partition to elect a leader for (with --topic)." };
        var all = new Option<bool>("--all-topic-partitions") { Description = "Elect leaders for every partition." };

        var command = new Command("leader-election", "Elect partition leaders: preferred replicas or unclean (as kafka-leader-election.sh).")
        {
            electionType, topic, partition, all,
        };
        cluster.AddTo(command);
        command.SetAction((parse, ct) => KafkaTool.RunAsync("leader-election", async () =>
        {
            var type = parse.GetValue(electionType)?.ToUpperInvariant() switch
            {
                "PREFERRED" => ElectionType.Preferred,
                "UNCLEAN" => ElectionType.Unclean,
                null => throw new ToolException("--election-type is required (PREFERRED or UNCLEAN)"),
                var other => throw new ToolException($"--election-type: '{other}' is neither PREFERRED nor UNCLEAN"),
            };
            string? name = parse.GetValue(topic);
            int? index = parse.GetValue(partition);
            bool everything = parse.GetValue(all);
            if (everything == (name is not null)) throw new ToolException("give either --all-topic-partitions or --topic with --partition");
            if (name is not null && index is null) throw new ToolException("--topic needs --partition");
            if (name is null && index is not null) throw new ToolException("--partition needs --topic");

            using var admin = new AdminClientBuilder(await cluster.ClientConfigAsync(parse, ct)).Build();
            List<TopicPartitionError> results;
            try
            {
                results = (await admin.ElectLeadersAsync(type, everything ? null : [new TopicPartition(name!, index!.Value)],
                    new ElectLeadersOptions { RequestTimeout = Timeout, OperationTimeout = Timeout })).TopicPartitions;
            }
            catch (ElectLeadersException e)
            {
                results = e.Results.TopicPartitions;
            }
            return Report(type, results);
        }));
        return command;
    }

    /// <summary>kafka-leader-election.sh's report: who was elected, where no election was needed, and each failure.</summary>
    private static int Report(ElectionType type, List<TopicPartitionError> results)
    {
        string kind = type == ElectionType.Preferred ? "PREFERRED" : "UNCLEAN";
        var elected = results.Where(r => !r.Error.IsError).Select(Name).ToList();
        var notNeeded = results.Where(r => r.Error.Code == ErrorCode.ElectionNotNeeded).Select(Name).ToList();
        var failed = results.Where(r => r.Error.IsError && r.Error.Code != ErrorCode.ElectionNotNeeded).ToList();
        if (elected.Count > 0) Console.WriteLine($"Successfully completed leader election ({kind}) for partitions {string.Join(", ", elected)}");
        if (notNeeded.Count > 0) Console.WriteLine($"Valid replica already elected for partitions {string.Join(", ", notNeeded)}");
        if (elected.Count == 0 && notNeeded.Count == 0 && failed.Count == 0) Console.WriteLine("No partitions needed an election");
        foreach (var f in failed)
            Console.Error.WriteLine($"Error completing leader election ({kind}) for partition: {Name(f)}: {KafkaErrors.Describe(f.Error)}");
        return failed.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static string Name(TopicPartitionError r) => $"{r.Topic}-{r.Partition.Value}";
}
