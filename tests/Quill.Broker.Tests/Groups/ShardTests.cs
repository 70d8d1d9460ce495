using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using static Quill.Broker.Tests.Groups.GroupRequests;

namespace Quill.Broker.Tests.Groups;

/// <summary>
/// The coordinator's shards: one per <c>__consumer_offsets</c> partition, each loading and unloading on its own, and
/// each with its own loop, so a slow write in one shard holds up nobody in another.
/// </summary>
public class ShardTests
{
    /// <summary>Two group ids that live in different partitions of the harness's offsets topic.</summary>
    private static (string A, string B) GroupsOnTwoShards(GroupHarness h)
    {
        string a = "group-a";
        string b = Enumerable.Range(0, 100).Select(i => $"group-b{i}").First(g => h.Coordinator.PartitionFor(g) != h.Coordinator.PartitionFor(a));
        return (a, b);
    }

    [Fact]
    public async Task A_shard_unloaded_and_loaded_again_serves_the_same_groups_and_offsets()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 0 });
        var (group, other) = GroupsOnTwoShards(h);
        var (members, generation) = await h.FormGroup(group, "a");
        Assert.All(CommitErrors(await h.CommitOffsets(group, generation, members["a"], offsets: ("t", 0, 42))), e => Assert.Equal(KafkaError.None, e.Error));
        Assert.All(CommitErrors(await h.CommitOffsets(other, offsets: ("t", 1, 7))), e => Assert.Equal(KafkaError.None, e.Error));
        int partition = h.Coordinator.PartitionFor(group);

        await h.Coordinator.UnloadShardAsync(partition).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(h.Coordinator.IsShardLoaded(partition));
        Assert.Equal(KafkaError.NotCoordinator, await h.Heartbeat(group, generation, members["a"]));
        Assert.Equal(KafkaError.NotCoordinator, Errors.Of(await h.FetchOffsets(group, topics: [("t", [0])])));
        // The other shard carries on.
        Assert.Equal(7, Offsets(await h.FetchOffsets(other, topics: [("t", [1])]))[("t", 1)].Offset);

        await h.Coordinator.LoadShardAsync(partition).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(h.Coordinator.IsShardLoaded(partition));
        Assert.Equal(42, Offsets(await h.FetchOffsets(group, topics: [("t", [0])]))[("t", 0)].Offset);
        var described = Assert.Single((await h.DescribeGroups(5, group)).GetArray("Groups")!);
        Assert.Equal("Stable", described.GetString("GroupState"));
        Assert.Equal(members["a"], Assert.Single(described.GetArray("Members")!).GetString("MemberId"));
        // The member carries on in its generation, without a rebalance.
        Assert.Equal(KafkaError.None, await h.Heartbeat(group, generation, members["a"]));
    }

    [Fact]
    public async Task A_commit_waiting_on_a_slow_write_holds_up_no_other_shard()
    {
        var gated = new GatedOffsetsLog();
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 0 }, wrapLog: gated.Wrap);
        var (slow, fast) = GroupsOnTwoShards(h);
        var (members, generation) = await h.FormGroup(fast, "a");

        gated.Hold(h.Coordinator.PartitionFor(slow));
        var commit = h.CommitOffsets(slow, offsets: ("t", 0, 1));
        await gated.Held.WaitAsync(TimeSpan.FromSeconds(10)); // the write has started, and waits

        // Another shard answers meanwhile: a heartbeat, a commit (a real write), a fetch.
        Assert.Equal(KafkaError.None, await h.Heartbeat(fast, generation, members["a"]).Within());
        Assert.All(CommitErrors(await h.CommitOffsets(fast, generation, members["a"], offsets: ("t", 0, 5)).Within()),
            e => Assert.Equal(KafkaError.None, e.Error));
        Assert.Equal(5, Offsets(await h.FetchOffsets(fast, topics: [("t", [0])]).Within())[("t", 0)].Offset);
        Assert.False(commit.IsCompleted);

        gated.Release();
        Assert.All(CommitErrors(await commit.Within()), e => Assert.Equal(KafkaError.None, e.Error));
        Assert.Equal(1, Offsets(await h.FetchOffsets(slow, topics: [("t", [0])]).Within())[("t", 0)].Offset);
    }
}
