using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;
using static Quill.Broker.Tests.Groups.GroupRequests;

namespace Quill.Broker.Tests.Groups;

public class AdminTests
{
    private static async Task<GroupHarness> WithGroups()
    {
        var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 1000 });
        await h.FormGroup("stable", "a");
        await h.CommitOffsets("offsets-only", offsets: ("t", 0, 1));
        await h.JoinNew("preparing", "x");
        return h;
    }

    private static List<(string? Id, string? Type, string? State)> Listed(StructValue response) =>
        [.. response.GetArray("Groups")!.Select(g => (g.GetString("GroupId"), g.GetString("ProtocolType"), g.GetString("GroupState"))).OrderBy(g => g.Item1)];

    [Fact]
    public async Task ListGroups_lists_every_group_and_filters_by_state_and_type()
    {
        using var h = await WithGroups();
        var all = await h.Send(ApiKey.ListGroups, 4, _ => { });
        Assert.Equal(KafkaError.None, Errors.Of(all));
        Assert.Equal([("offsets-only", "", "Empty"), ("preparing", "consumer", "PreparingRebalance"), ("stable", "consumer", "Stable")], Listed(all));

        var stableOrEmpty = await h.Send(ApiKey.ListGroups, 4, b => b.SetStringArray("StatesFilter", ["stable", "Empty"]));
        Assert.Equal(["offsets-only", "stable"], Listed(stableOrEmpty).Select(g => g.Id));

        var classic = await h.Send(ApiKey.ListGroups, 5, b => b.SetStringArray("TypesFilter", ["Classic"]));
        Assert.Equal(3, classic.GetArray("Groups")!.Count);
        Assert.All(classic.GetArray("Groups")!, g => Assert.Equal("classic", g.GetString("GroupType")));
        var consumerType = await h.Send(ApiKey.ListGroups, 5, b => b.SetStringArray("TypesFilter", ["consumer"]));
        Assert.Empty(consumerType.GetArray("Groups")!);

        for (short version = 0; version <= 3; version++)
            Assert.Equal(3, (await h.Send(ApiKey.ListGroups, version, _ => { })).GetArray("Groups")!.Count);
    }

    [Fact]
    public async Task DescribeGroups_shows_members_and_hides_assignments_outside_stable()
    {
        using var h = await WithGroups();
        var response = await h.DescribeGroups(5, "stable", "preparing", "unknown");
        var groups = response.GetArray("Groups")!;
        Assert.Equal(["stable", "preparing", "unknown"], groups.Select(g => g.GetString("GroupId")));
        Assert.All(groups, g => Assert.Equal(KafkaError.None, Errors.Of(g)));

        Assert.Equal("Stable", groups[0].GetString("GroupState"));
        Assert.Equal("consumer", groups[0].GetString("ProtocolType"));
        Assert.Equal("p-a", Text(Assert.Single(groups[0].GetArray("Members")!).GetBytes("MemberAssignment")));

        Assert.Equal("PreparingRebalance", groups[1].GetString("GroupState"));
        Assert.Equal("", groups[1].GetString("ProtocolData"));
        var waiting = Assert.Single(groups[1].GetArray("Members")!);
        Assert.Equal(0, waiting.GetBytes("MemberMetadata")!.Value.Length);

        Assert.Equal("Dead", groups[2].GetString("GroupState"));
        Assert.Empty(groups[2].GetArray("Members")!);
        Assert.Equal(int.MinValue, groups[0].GetInt32("AuthorizedOperations"));
    }

    [Fact]
    public async Task DescribeGroups_v6_reports_unknown_groups_and_v3_reports_operations_when_asked()
    {
        using var h = await WithGroups();
        var v6 = await h.Send(ApiKey.DescribeGroups, 6, b => b.SetStringArray("Groups", ["unknown", "stable"]));
        var unknown = v6.GetArray("Groups")![0];
        Assert.Equal(KafkaError.GroupIdNotFound, Errors.Of(unknown));
        Assert.Contains("unknown", unknown.GetString("ErrorMessage"));
        Assert.Equal(KafkaError.None, Errors.Of(v6.GetArray("Groups")![1]));

        var v3 = await h.Send(ApiKey.DescribeGroups, 3, b => b.SetStringArray("Groups", ["stable"]).SetBool("IncludeAuthorizedOperations", true));
        Assert.Equal((1 << 3) | (1 << 6) | (1 << 8), v3.GetArray("Groups")![0].GetInt32("AuthorizedOperations"));
        for (short version = 0; version <= 6; version++)
            Assert.Equal("Stable", (await h.DescribeGroups(version, "stable")).GetArray("Groups")![0].GetString("GroupState"));
    }

    [Fact]
    public async Task DeleteGroups_deletes_empty_groups_only()
    {
        using var h = await WithGroups();
        for (short version = 0; version <= 2; version++)
        {
            var response = await h.Send(ApiKey.DeleteGroups, version, b => b.SetStringArray("GroupsNames", ["stable", "preparing", "never"]));
            Assert.Equal([("stable", KafkaError.NonEmptyGroup), ("preparing", KafkaError.NonEmptyGroup), ("never", KafkaError.GroupIdNotFound)],
                response.GetArray("Results")!.Select(r => (r.GetString("GroupId"), Errors.Of(r))));
        }
        var deleted = await h.Send(ApiKey.DeleteGroups, 2, b => b.SetStringArray("GroupsNames", ["offsets-only"]));
        Assert.Equal(KafkaError.None, Errors.Of(Assert.Single(deleted.GetArray("Results")!)));
        Assert.Equal(-1L, Offsets(await h.FetchOffsets("offsets-only", 7, ("t", [0])))[("t", 0)].Offset);
        var again = await h.Send(ApiKey.DeleteGroups, 2, b => b.SetStringArray("GroupsNames", ["offsets-only"]));
        Assert.Equal(KafkaError.GroupIdNotFound, Errors.Of(Assert.Single(again.GetArray("Results")!)));
        Assert.DoesNotContain(Listed(await h.Send(ApiKey.ListGroups, 4, _ => { })), g => g.Id == "offsets-only");
    }
}
