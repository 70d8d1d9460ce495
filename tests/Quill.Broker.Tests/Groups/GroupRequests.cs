using System.Text;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Groups;

/// <summary>The group requests a consumer sends, as one-liners for tests.</summary>
public static class GroupRequests
{
    public const int SessionTimeoutMs = 10_000;
    public const int RebalanceTimeoutMs = 30_000;

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
    public static string Text(ReadOnlyMemory<byte>? bytes) => Encoding.UTF8.GetString((bytes ?? default).Span);

    /// <summary>Protocols "range" and "roundrobin" with metadata naming the member, so pass-through is visible.</summary>
    public static (string Name, byte[] Metadata)[] ConsumerProtocols(string who) =>
        [("range", Bytes($"range:{who}")), ("roundrobin", Bytes($"rr:{who}"))];

    public static Task<StructValue> JoinGroup(this GroupHarness h, string group, string memberId = "", short version = 9,
        string? instanceId = null, int sessionTimeoutMs = SessionTimeoutMs, int rebalanceTimeoutMs = RebalanceTimeoutMs,
        string protocolType = "consumer", (string Name, byte[] Metadata)[]? protocols = null, string clientId = "test-client")
    {
        return h.Send(ApiKey.JoinGroup, version, b =>
        {
            b.SetString("GroupId", group).SetString("MemberId", memberId).SetString("GroupInstanceId", instanceId)
                .SetInt("SessionTimeoutMs", sessionTimeoutMs).SetInt("RebalanceTimeoutMs", rebalanceTimeoutMs)
                .SetString("ProtocolType", protocolType);
            foreach (var (name, metadata) in protocols ?? ConsumerProtocols(clientId))
                b.AddElement("Protocols").SetString("Name", name).SetBytes("Metadata", metadata);
        }, clientId);
    }

    /// <summary>
    /// A new dynamic member joining as a v4+ client does: the first JoinGroup gets MEMBER_ID_REQUIRED and an id,
    /// the second (returned, still waiting for the round) carries it.
    /// </summary>
    public static async Task<(string MemberId, Task<StructValue> Join)> JoinNew(this GroupHarness h, string group, string clientId,
        short version = 9, int sessionTimeoutMs = SessionTimeoutMs, int rebalanceTimeoutMs = RebalanceTimeoutMs,
        (string Name, byte[] Metadata)[]? protocols = null)
    {
        var first = await h.JoinGroup(group, "", version, null, sessionTimeoutMs, rebalanceTimeoutMs, protocols: protocols, clientId: clientId);
        Assert.Equal(KafkaError.MemberIdRequired, Errors.Of(first));
        string memberId = first.GetString("MemberId")!;
        Assert.StartsWith(clientId + "-", memberId);
        return (memberId, h.JoinGroup(group, memberId, version, null, sessionTimeoutMs, rebalanceTimeoutMs, protocols: protocols, clientId: clientId));
    }

    public static Task<StructValue> SyncGroup(this GroupHarness h, string group, int generation, string memberId, short version = 5,
        string? instanceId = null, string? protocolType = "consumer", string? protocolName = null,
        params (string MemberId, byte[] Assignment)[] assignments)
    {
        return h.Send(ApiKey.SyncGroup, version, b =>
        {
            b.SetString("GroupId", group).SetInt("GenerationId", generation).SetString("MemberId", memberId)
                .SetString("GroupInstanceId", instanceId).SetString("ProtocolType", protocolType).SetString("ProtocolName", protocolName);
            foreach (var (member, assignment) in assignments)
                b.AddElement("Assignments").SetString("MemberId", member).SetBytes("Assignment", assignment);
        });
    }

    public static async Task<KafkaError> Heartbeat(this GroupHarness h, string group, int generation, string memberId, short version = 4,
        string? instanceId = null)
    {
        var response = await h.Send(ApiKey.Heartbeat, version, b => b.SetString("GroupId", group).SetInt("GenerationId", generation)
            .SetString("MemberId", memberId).SetString("GroupInstanceId", instanceId));
        return Errors.Of(response);
    }

    public static Task<StructValue> LeaveGroup(this GroupHarness h, string group, short version = 5, params (string MemberId, string? InstanceId)[] members)
    {
        return h.Send(ApiKey.LeaveGroup, version, b =>
        {
            b.SetString("GroupId", group);
            if (version < 3) b.SetString("MemberId", members[0].MemberId);
            else
                foreach (var (memberId, instanceId) in members)
                    b.AddElement("Members").SetString("MemberId", memberId).SetString("GroupInstanceId", instanceId);
        });
    }

    /// <summary>OffsetCommit of (topic, partition, offset) entries; metadata "m{offset}", leader epoch 5.</summary>
    public static Task<StructValue> CommitOffsets(this GroupHarness h, string group, int generation = -1, string memberId = "",
        short version = 9, string? instanceId = null, params (string Topic, int Partition, long Offset)[] offsets)
    {
        return h.Send(ApiKey.OffsetCommit, version, b =>
        {
            b.SetString("GroupId", group).SetInt("GenerationIdOrMemberEpoch", generation).SetString("MemberId", memberId)
                .SetString("GroupInstanceId", instanceId);
            foreach (var byTopic in offsets.GroupBy(o => o.Topic))
            {
                var topic = b.AddElement("Topics").SetString("Name", byTopic.Key);
                foreach (var (_, partition, offset) in byTopic)
                    topic.AddElement("Partitions").SetInt("PartitionIndex", partition).SetInt("CommittedOffset", offset)
                        .SetInt("CommittedLeaderEpoch", 5).SetString("CommittedMetadata", $"m{offset}");
            }
        });
    }

    /// <summary>The error of every partition of an OffsetCommit response, as (topic, partition, error).</summary>
    public static List<(string Topic, int Partition, KafkaError Error)> CommitErrors(StructValue response) =>
        [.. from t in response.GetArray("Topics")!
            from p in t.GetArray("Partitions")!
            select (t.GetString("Name")!, p.GetInt32("PartitionIndex"), (KafkaError)p.GetInt16("ErrorCode"))];

    /// <summary>OffsetFetch (v0-7 form) of some partitions, or of all when <paramref name="topics"/> is null.</summary>
    public static Task<StructValue> FetchOffsets(this GroupHarness h, string group, short version = 7,
        params (string Topic, int[] Partitions)[]? topics)
    {
        return h.Send(ApiKey.OffsetFetch, version, b =>
        {
            b.SetString("GroupId", group);
            if (topics is null) b.SetArray("Topics", null);
            else
                foreach (var (topic, partitions) in topics)
                    b.AddElement("Topics").SetString("Name", topic).SetInt32Array("PartitionIndexes", partitions);
        });
    }

    /// <summary>Every partition of an OffsetFetch response (v0-7 form, or one group's entry from v8).</summary>
    public static Dictionary<(string Topic, int Partition), (long Offset, int LeaderEpoch, string? Metadata, KafkaError Error)> Offsets(StructValue response) =>
        (from t in response.GetArray("Topics")!
         from p in t.GetArray("Partitions")!
         select (Key: (t.GetString("Name")!, p.GetInt32("PartitionIndex")),
                 Value: (p.GetInt64("CommittedOffset"), p.GetInt32("CommittedLeaderEpoch"), p.GetString("Metadata"), (KafkaError)p.GetInt16("ErrorCode"))))
        .ToDictionary(e => e.Key, e => e.Value);

    public static Task<StructValue> DescribeGroups(this GroupHarness h, short version = 5, params string[] groups) =>
        h.Send(ApiKey.DescribeGroups, version, b => b.SetStringArray("Groups", groups));

    /// <summary>
    /// Forms a stable group of new members (named by client id), the first one leading: joins all, waits out the
    /// initial delay, and syncs with the leader assigning "p-{client}" to each. Returns their member ids and the generation.
    /// </summary>
    public static async Task<(Dictionary<string, string> Members, int Generation)> FormGroup(this GroupHarness h, string group,
        params string[] clients)
    {
        var joining = new List<(string Client, string MemberId, Task<StructValue> Join)>();
        foreach (string client in clients)
        {
            var (memberId, join) = await h.JoinNew(group, client);
            joining.Add((client, memberId, join));
        }
        h.Advance(2L * h.Options.InitialRebalanceDelayMs + 1);
        var joins = await Task.WhenAll(joining.Select(j => j.Join)).Within();
        int generation = joins[0].GetInt32("GenerationId");
        var members = joining.ToDictionary(j => j.Client, j => j.MemberId);
        await h.SyncAround(group, generation, joins[0].GetString("Leader")!, members);
        return (members, generation);
    }

    /// <summary>Syncs every member of a completed join round; the leader assigns "p-{client}" to each.</summary>
    public static async Task SyncAround(this GroupHarness h, string group, int generation, string leader, Dictionary<string, string> members)
    {
        var followers = members.Values.Where(m => m != leader).Select(m => h.SyncGroup(group, generation, m)).ToList();
        var leaderSync = await h.SyncGroup(group, generation, leader,
            assignments: [.. members.Select(m => (m.Value, Bytes("p-" + m.Key)))]).Within();
        Assert.Equal(KafkaError.None, Errors.Of(leaderSync));
        foreach (var f in await Task.WhenAll(followers).Within()) Assert.Equal(KafkaError.None, Errors.Of(f));
    }

    public static async Task<T> Within<T>(this Task<T> task, int seconds = 10) => await task.WaitAsync(TimeSpan.FromSeconds(seconds));
}
