using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using static Quill.Broker.Tests.Groups.GroupRequests;

namespace Quill.Broker.Tests.Groups;

public class OffsetTests
{
    [Fact]
    public async Task A_simple_commit_is_fetched_back_with_epoch_and_metadata_and_unknown_partitions_are_minus_one()
    {
        using var h = new GroupHarness();
        var commit = await h.CommitOffsets("simple", offsets: [("t", 0, 10), ("t", 1, 20), ("u", 0, 30)]);
        Assert.All(CommitErrors(commit), e => Assert.Equal(KafkaError.None, e.Error));

        var fetched = Offsets(await h.FetchOffsets("simple", 7, ("t", [0, 1, 2]), ("u", [0])));
        Assert.Equal((10L, 5, "m10", KafkaError.None), fetched[("t", 0)]);
        Assert.Equal((20L, 5, "m20", KafkaError.None), fetched[("t", 1)]);
        Assert.Equal((-1L, -1, "", KafkaError.None), fetched[("t", 2)]);
        Assert.Equal((30L, 5, "m30", KafkaError.None), fetched[("u", 0)]);

        // A later commit wins; null topics (v2+) fetch everything committed.
        await h.CommitOffsets("simple", offsets: ("t", 0, 11));
        var all = Offsets(await h.FetchOffsets("simple", 2, null));
        Assert.Equal(3, all.Count);
        Assert.Equal(11L, all[("t", 0)].Offset);
        // A group nobody committed for answers -1, not an error.
        Assert.Equal((-1L, -1, "", KafkaError.None), Offsets(await h.FetchOffsets("nobody", 7, ("t", [0])))[("t", 0)]);
    }

    [Fact]
    public async Task Commits_and_fetches_work_in_every_version()
    {
        using var h = new GroupHarness();
        for (short version = 0; version <= 9; version++)
        {
            var commit = await h.CommitOffsets($"g{version}", version: version, offsets: ("t", 3, 100 + version));
            Assert.Equal(KafkaError.None, CommitErrors(commit).Single().Error);
        }
        for (short version = 0; version <= 7; version++)
        {
            var (offset, epoch, metadata, error) = Offsets(await h.FetchOffsets($"g{version}", version, ("t", [3])))[("t", 3)];
            Assert.Equal(KafkaError.None, error);
            Assert.Equal(100 + version, offset);
            Assert.Equal($"m{100 + version}", metadata);
            // The leader epoch is committed from v6 and fetched from v5.
            Assert.Equal(version >= 6 ? 5 : -1, epoch);
        }
        // v8+: several groups at once, each with its own error and offsets.
        for (short version = 8; version <= 9; version++)
        {
            var response = await h.Send(ApiKey.OffsetFetch, version, b =>
            {
                foreach (string group in new[] { "g8", "g9", "none" })
                    b.AddElement("Groups").SetString("GroupId", group).AddElement("Topics").SetString("Name", "t").SetInt32Array("PartitionIndexes", [3]);
            });
            var groups = response.GetArray("Groups")!;
            Assert.Equal(["g8", "g9", "none"], groups.Select(g => g.GetString("GroupId")));
            Assert.All(groups, g => Assert.Equal(KafkaError.None, Errors.Of(g)));
            Assert.Equal(108L, Offsets(groups[0])[("t", 3)].Offset);
            Assert.Equal(109L, Offsets(groups[1])[("t", 3)].Offset);
            Assert.Equal(-1L, Offsets(groups[2])[("t", 3)].Offset);
        }
    }

    [Fact]
    public async Task Group_members_commit_with_their_generation_and_others_are_refused()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 1000 });
        var (members, generation) = await h.FormGroup("g", "a");

        Assert.Equal(KafkaError.None, CommitErrors(await h.CommitOffsets("g", generation, members["a"], offsets: ("t", 0, 5))).Single().Error);
        Assert.Equal(KafkaError.IllegalGeneration, CommitErrors(await h.CommitOffsets("g", generation + 1, members["a"], offsets: ("t", 0, 6))).Single().Error);
        Assert.Equal(KafkaError.UnknownMemberId, CommitErrors(await h.CommitOffsets("g", generation, "stranger", offsets: ("t", 0, 6))).Single().Error);
        // A simple commit into a group with members is refused: the member id "" is not in it.
        Assert.Equal(KafkaError.UnknownMemberId, CommitErrors(await h.CommitOffsets("g", -1, "", offsets: ("t", 0, 6))).Single().Error);
        // A generation for a group that does not exist is one the coordinator lost: refused.
        Assert.Equal(KafkaError.IllegalGeneration, CommitErrors(await h.CommitOffsets("gone", 3, "x", offsets: ("t", 0, 6))).Single().Error);
        Assert.Equal(5L, Offsets(await h.FetchOffsets("g", 7, ("t", [0])))[("t", 0)].Offset);

        // During a rebalance a member may still commit with its (current) generation.
        await h.JoinNew("g", "b");
        Assert.Equal(KafkaError.None, CommitErrors(await h.CommitOffsets("g", generation, members["a"], offsets: ("t", 0, 7))).Single().Error);
    }

    [Fact]
    public async Task Oversized_metadata_and_unknown_partitions_are_refused_per_partition()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 0, OffsetMetadataMaxBytes = 4 },
            partitionExists: (topic, partition) => topic == "t" && partition < 2);
        // Metadata is "m{offset}": "m1" fits in 4 bytes, "m12345" does not.
        var commit = await h.CommitOffsets("g", offsets: [("t", 0, 1), ("t", 1, 12345), ("t", 7, 1), ("nope", 0, 1)]);
        Assert.Equal(
            [("t", 0, KafkaError.None), ("t", 1, KafkaError.OffsetMetadataTooLarge), ("t", 7, KafkaError.UnknownTopicOrPartition), ("nope", 0, KafkaError.UnknownTopicOrPartition)],
            CommitErrors(commit));
        var fetched = Offsets(await h.FetchOffsets("g", 7, ("t", [0, 1])));
        Assert.Equal(1L, fetched[("t", 0)].Offset);
        Assert.Equal(-1L, fetched[("t", 1)].Offset);
    }

    [Fact]
    public async Task a_transactional_commit_refuses_per_partition_what_a_plain_commit_refuses()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 0, OffsetMetadataMaxBytes = 4 });
        static bool Exists(string topic, int partition) => topic == "t" && partition < 2;
        static OffsetCommitEntry Entry(string topic, int partition, string metadata) => new(topic, partition, 1, -1, metadata);
        var errors = await h.Coordinator.CommitTransactionalOffsetsAsync("g", producerId: 1, producerEpoch: 0, memberId: "", groupInstanceId: null,
            generationId: -1, [Entry("t", 0, "m1"), Entry("t", 1, "m12345"), Entry("t", 7, "m1"), Entry("nope", 0, "m1")], Exists).Within();
        Assert.Equal([KafkaError.None, KafkaError.OffsetMetadataTooLarge, KafkaError.UnknownTopicOrPartition, KafkaError.UnknownTopicOrPartition], errors);
    }

    [Fact]
    public async Task Offsets_of_an_empty_group_expire_after_the_retention_and_then_the_group_goes()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions
        {
            InitialRebalanceDelayMs = 0,
            OffsetsRetentionMs = 60_000,
            OffsetsRetentionCheckIntervalMs = 1_000,
        });
        await h.CommitOffsets("old", offsets: ("t", 0, 1));
        h.Advance(30_000);
        await h.CommitOffsets("old", offsets: ("t", 1, 2));
        h.Advance(31_000);
        // t-0 was committed 61 s ago, t-1 31 s ago: only t-0 expired.
        var fetched = Offsets(await h.FetchOffsets("old", 7, ("t", [0, 1])));
        Assert.Equal(-1L, fetched[("t", 0)].Offset);
        Assert.Equal(2L, fetched[("t", 1)].Offset);
        h.Advance(30_000);
        var list = await h.Send(ApiKey.ListGroups, 4, _ => { });
        Assert.DoesNotContain(list.GetArray("Groups")!, g => g.GetString("GroupId") == "old");
        // And it stays gone after a restart: the log holds tombstones.
        h.Restart();
        Assert.Equal(-1L, Offsets(await h.FetchOffsets("old", 7, ("t", [1])))[("t", 1)].Offset);
    }

    [Fact]
    public async Task A_consumer_groups_offsets_are_kept_while_it_has_members()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions
        {
            InitialRebalanceDelayMs = 0,
            OffsetsRetentionMs = 20_000,
            OffsetsRetentionCheckIntervalMs = 1_000,
        });
        var (members, generation) = await h.FormGroup("live", "a");
        await h.CommitOffsets("live", generation, members["a"], offsets: ("t", 0, 9));
        for (int i = 0; i < 10; i++)
        {
            h.Advance(5_000);
            Assert.Equal(KafkaError.None, await h.Heartbeat("live", generation, members["a"]));
        }
        Assert.Equal(9L, Offsets(await h.FetchOffsets("live", 7, ("t", [0])))[("t", 0)].Offset);
        // Once it is empty, the retention clock starts.
        await h.LeaveGroup("live", 5, (members["a"], null));
        h.Advance(15_000);
        Assert.Equal(9L, Offsets(await h.FetchOffsets("live", 7, ("t", [0])))[("t", 0)].Offset);
        h.Advance(6_000);
        Assert.Equal(-1L, Offsets(await h.FetchOffsets("live", 7, ("t", [0])))[("t", 0)].Offset);
    }
    [Fact]
    public async Task A_commit_is_served_and_answered_only_once_replicated_and_not_at_all_when_replication_fails()
    {
        var replication = new ReplicationGatedOffsetsLog();
        using var h = new GroupHarness(wrapLog: replication.Wrap);
        Assert.All(CommitErrors(await h.CommitOffsets("r", offsets: ("t", 0, 5)).Within()), e => Assert.Equal(KafkaError.None, e.Error));
        replication.Hold();

        var pending = h.CommitOffsets("r", offsets: ("t", 0, 6));
        await replication.UntilWaitingAsync(1);
        Assert.False(pending.IsCompleted, "answered before the followers had the commit");
        // Not served yet: a new coordinator might not have it.
        Assert.Equal(5L, Offsets(await h.FetchOffsets("r", 7, ("t", [0])).Within())[("t", 0)].Offset);
        replication.Replicate(KafkaError.None);
        Assert.All(CommitErrors(await pending.Within()), e => Assert.Equal(KafkaError.None, e.Error));
        Assert.Equal(6L, Offsets(await h.FetchOffsets("r", 7, ("t", [0])).Within())[("t", 0)].Offset);

        // Too few in-sync replicas: COORDINATOR_NOT_AVAILABLE, and the group keeps serving the offset it had.
        var failed = h.CommitOffsets("r", offsets: ("t", 0, 7));
        await replication.UntilWaitingAsync(1);
        replication.Replicate(KafkaError.NotEnoughReplicasAfterAppend);
        Assert.All(CommitErrors(await failed.Within()), e => Assert.Equal(KafkaError.CoordinatorNotAvailable, e.Error));
        Assert.Equal(6L, Offsets(await h.FetchOffsets("r", 7, ("t", [0])).Within())[("t", 0)].Offset);
    }

    [Fact]
    public async Task An_older_commit_whose_replication_ends_last_does_not_replace_a_newer_one()
    {
        var replication = new ReplicationGatedOffsetsLog();
        using var h = new GroupHarness(wrapLog: replication.Wrap);
        replication.Hold();
        var older = h.CommitOffsets("o", offsets: ("t", 0, 1));
        var newer = h.CommitOffsets("o", offsets: ("t", 0, 2));
        await replication.UntilWaitingAsync(2);
        replication.ReplicateNewest(KafkaError.None);
        await newer.Within();
        replication.Replicate(KafkaError.None);
        await older.Within();
        Assert.Equal(2L, Offsets(await h.FetchOffsets("o", 7, ("t", [0])).Within())[("t", 0)].Offset);
    }
}
