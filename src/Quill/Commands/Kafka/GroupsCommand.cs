using System.CommandLine;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Commands.Kafka;

/// <summary>`quill groups`: kafka-consumer-groups.sh: --list, --describe (offsets and lag), --delete, --reset-offsets.</summary>
public static class GroupsCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var cluster = new KafkaToolOptions();
        var list = new Option<bool>("--list") { Description = "List the consumer groups." };
        var describe = new Option<bool>("--describe") { Description = "Per partition: committed offset, log-end offset, lag and the member that holds it." };
        var delete = new Option<bool>("--delete") { Description = "Delete the group (it must have no active members)." };
        var reset = new Option<bool>("--reset-offsets") { Description = "Move the group's committed offsets (plan only, unless --execute)." };
        var group = new Option<string[]>("--group") { Description = "The group id; repeat for several.", AllowMultipleArgumentsPerToken = false };
        var allGroups = new Option<bool>("--all-groups") { Description = "With --describe or --delete: every group." };
        var topic = new Option<string?>("--topic") { Description = "With --reset-offsets: the topic (or topic:0,1 for some partitions)." };
        var allTopics = new Option<bool>("--all-topics") { Description = "With --reset-offsets: every topic the group has offsets for." };
        var toEarliest = new Option<bool>("--to-earliest") { Description = "Reset to each partition's log start." };
        var toLatest = new Option<bool>("--to-latest") { Description = "Reset to each partition's log end." };
        var toOffset = new Option<long?>("--to-offset") { Description = "Reset to this offset." };
        var execute = new Option<bool>("--execute") { Description = "Apply the reset." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only show the reset (the default)." };
        var command = new Command("groups", "List, describe, delete consumer groups and reset their offsets (as kafka-consumer-groups.sh).")
        {
            list, describe, delete, reset, group, allGroups, topic, allTopics, toEarliest, toLatest, toOffset, execute, dryRun,
        };
        cluster.AddTo(command);
        command.SetAction((parse, ct) => KafkaTool.RunAsync("groups", async () =>
        {
            if (new[] { list, describe, delete, reset }.Count(o => parse.GetValue(o)) != 1)
                throw new ToolException("give exactly one of --list, --describe, --delete, --reset-offsets");
            using var admin = new AdminClientBuilder(await cluster.ClientConfigAsync(parse, ct)).Build();
            if (parse.GetValue(list))
            {
                foreach (var id in await ListAsync(admin)) Console.WriteLine(id);
                return ExitCodes.Ok;
            }
            var groups = parse.GetValue(group) ?? [];
            if (parse.GetValue(allGroups)) groups = [.. await ListAsync(admin)];
            else if (groups.Length == 0) throw new ToolException("--group (or --all-groups) is required");

            if (parse.GetValue(describe))
            {
                int code = ExitCodes.Ok;
                foreach (var g in groups) code = Math.Max(code, await GroupOffsets.DescribeAsync(admin, g, Console.Out, Timeout));
                return code;
            }
            if (parse.GetValue(delete))
            {
                await admin.DeleteGroupsAsync(groups, new DeleteGroupsOptions { RequestTimeout = Timeout });
                Console.WriteLine($"Deletion of requested consumer groups ({string.Join(", ", groups.Select(g => $"'{g}'"))}) was successful.");
                return ExitCodes.Ok;
            }

            if (groups.Length != 1) throw new ToolException("--reset-offsets works on one --group");
            var target = new[] { parse.GetValue(toEarliest), parse.GetValue(toLatest), parse.GetValue(toOffset) is not null }.Count(b => b) == 1
                ? parse.GetValue(toEarliest) ? OffsetTarget.Earliest : parse.GetValue(toLatest) ? OffsetTarget.Latest : OffsetTarget.Exact(parse.GetValue(toOffset)!.Value)
                : throw new ToolException("give one of --to-earliest, --to-latest, --to-offset");
            if (parse.GetValue(topic) is null == !parse.GetValue(allTopics)) throw new ToolException("give --topic or --all-topics");
            if (parse.GetValue(execute) && parse.GetValue(dryRun)) throw new ToolException("--execute and --dry-run exclude each other");
            return await GroupOffsets.ResetAsync(admin, groups[0], parse.GetValue(topic), target, parse.GetValue(execute), Console.Out, Timeout);
        }));
        return command;
    }

    private static async Task<List<string>> ListAsync(IAdminClient admin)
    {
        var result = await admin.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { RequestTimeout = Timeout });
        return result.Valid.Select(g => g.GroupId).Order(StringComparer.Ordinal).ToList();
    }
}
