using System.Text.Json;
using Quill.Testing;

namespace Quill.Streams.Tests;

/// <summary>A highly available job's znodes as kazoo (a ZooKeeper client nobody here wrote) reads them.</summary>
public sealed class HaKazoo(string keeper)
{
    /// <summary>The job's znodes: checkpoint pointers (name, data), the counter, the latch's participants, the instances (name, data).</summary>
    public async Task<HaSnapshot> ReadAsync(string jobRoot)
    {
        var result = await ToolRunner.RunKazooAsync("""
            import sys, json
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15); root = sys.argv[2]
            def children(path): return sorted(zk.get_children(path)) if zk.exists(path) else []
            out = {
                "checkpoints": [[c, zk.get(f"{root}/checkpoints/{c}")[0].decode()] for c in children(f"{root}/checkpoints")],
                "counter": zk.get(f"{root}/checkpoint-counter")[0].decode() if zk.exists(f"{root}/checkpoint-counter") else None,
                "counterVersion": zk.exists(f"{root}/checkpoint-counter").version if zk.exists(f"{root}/checkpoint-counter") else -1,
                "latch": [zk.get(f"{root}/leader/{c}")[0].decode() for c in sorted(children(f"{root}/leader"), key=lambda c: c[-10:])],
                "latchEphemeral": all(zk.exists(f"{root}/leader/{c}").ephemeralOwner != 0 for c in children(f"{root}/leader")),
                "instances": [[c, zk.get(f"{root}/instances/{c}")[0].decode()] for c in children(f"{root}/instances")],
            }
            print(json.dumps(out))
            zk.stop(); zk.close()
            """, keeper, jobRoot);
        Assert.True(result.Succeeded, result.ToString());
        return JsonSerializer.Deserialize<HaSnapshot>(result.StdOut, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }

    /// <summary>The job's assignment znode (which instance runs which subtasks), as kazoo reads it; null if there is none.</summary>
    public async Task<JsonElement?> ReadAssignmentAsync(string jobRoot)
    {
        var result = await ToolRunner.RunKazooAsync("""
            import sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15); path = sys.argv[2] + "/assignment"
            print(zk.get(path)[0].decode() if zk.exists(path) else "null")
            zk.stop(); zk.close()
            """, keeper, jobRoot);
        Assert.True(result.Succeeded, result.ToString());
        var root = JsonDocument.Parse(result.StdOut).RootElement.Clone();
        return root.ValueKind == JsonValueKind.Null ? null : root;
    }

    /// <summary>
    /// What a tool does to take a savepoint through Keeper: creates a request under the job's savepoint-requests, waits
    /// for the leader's answer, deletes the request. Returns the answer's JSON.
    /// </summary>
    public async Task<JsonElement> RequestSavepointAsync(string jobRoot, string directory)
    {
        var result = await ToolRunner.RunKazooAsync("""
            import sys, json, time
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15); root = sys.argv[2]
            path = zk.create(f"{root}/savepoint-requests/request-", json.dumps({"directory": sys.argv[3]}).encode(), sequence=True)
            deadline = time.time() + 50
            while True:
                answer = json.loads(zk.get(path)[0].decode())
                if answer.get("status") or time.time() > deadline: break
                time.sleep(0.05)
            zk.delete(path)
            print(json.dumps(answer))
            zk.stop(); zk.close()
            """, keeper, jobRoot, directory);
        Assert.True(result.Succeeded, result.ToString());
        return JsonDocument.Parse(result.StdOut).RootElement.Clone();
    }
}

public sealed class HaSnapshot
{
    public List<List<string>> Checkpoints { get; set; } = [];
    public string? Counter { get; set; }
    public int CounterVersion { get; set; }
    public List<string> Latch { get; set; } = [];
    public bool LatchEphemeral { get; set; }
    public List<List<string>> Instances { get; set; } = [];

    public List<long> CheckpointIds => [.. Checkpoints.Select(c => long.Parse(c[0], System.Globalization.CultureInfo.InvariantCulture))];

    public string PathOf(int index) => JsonDocument.Parse(Checkpoints[index][1]).RootElement.GetProperty("path").GetString()!;

    public string RoleOf(string instance) =>
        JsonDocument.Parse(Instances.Single(i => i[0] == instance)[1]).RootElement.GetProperty("role").GetString()!;
}
