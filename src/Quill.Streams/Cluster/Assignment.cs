using System.Text.Json;
using System.Text.Json.Serialization;

namespace Quill.Streams.Cluster;

/// <summary>
/// Which instance runs which subtasks in one generation of a job (the leader's <c>&lt;root&gt;/&lt;job&gt;/assignment</c>
/// znode): every stage has subtasks 0..P-1, and subtask s of every stage runs on the same instance, so a source's
/// chain and the keyed task of the same index share a process. A new generation is written whenever the instances
/// change or a generation fails; each starts from <see cref="Checkpoint"/>.
/// </summary>
public sealed class Assignment
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public long Generation { get; set; }
    public int Parallelism { get; set; }

    /// <summary>The checkpoint (file) or savepoint every instance restores its subtasks from; null: start empty.</summary>
    public string? Checkpoint { get; set; }

    /// <summary>The instance leading the job (its checkpoint coordinator).</summary>
    public string Leader { get; set; } = "";

    public List<AssignedInstance> Instances { get; set; } = [];

    /// <summary>
    /// Subtask s goes to the (s mod n)-th instance, instances in ordinal order of their ids: the same inputs always
    /// give the same assignment, and the subtasks spread evenly (a difference of at most one). With more instances than
    /// subtasks, the leader and the first others by id take part.
    /// </summary>
    public static Assignment Compute(long generation, int parallelism, string leader, string? checkpoint,
        IEnumerable<(string Instance, string? Endpoint)> members)
    {
        var sorted = members.DistinctBy(m => m.Instance).OrderBy(m => m.Instance, StringComparer.Ordinal).ToList();
        if (sorted.Count == 0) throw new ArgumentException("an assignment needs at least one instance", nameof(members));
        if (sorted.Count > parallelism)
        {
            // More instances than subtasks: the leader always takes part (its coordinator completes the checkpoints, and
            // the followers connect to it), then the first others by id; the rest get nothing this generation.
            var taking = sorted.Where(m => m.Instance == leader).Concat(sorted.Where(m => m.Instance != leader))
                .Take(parallelism).Select(m => m.Instance).ToHashSet(StringComparer.Ordinal);
            sorted = [.. sorted.Where(m => taking.Contains(m.Instance))];
        }
        var instances = sorted.Select(m => new AssignedInstance { Instance = m.Instance, Endpoint = m.Endpoint }).ToList();
        for (int subtask = 0; subtask < parallelism; subtask++) instances[subtask % instances.Count].Subtasks.Add(subtask);
        return new Assignment
        {
            Generation = generation, Parallelism = parallelism, Checkpoint = checkpoint, Leader = leader,
            Instances = [.. instances.Where(i => i.Subtasks.Count > 0)],
        };
    }

    /// <summary>The instance that runs <paramref name="subtask"/>.</summary>
    public AssignedInstance OwnerOf(int subtask) =>
        Instances.FirstOrDefault(i => i.Subtasks.Contains(subtask)) ?? throw new InvalidOperationException($"no instance runs subtask {subtask}");

    public AssignedInstance? Of(string instance) => Instances.FirstOrDefault(i => i.Instance == instance);

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static Assignment Parse(ReadOnlySpan<byte> data) =>
        JsonSerializer.Deserialize<Assignment>(data, Json) ?? throw new JsonException("the assignment znode holds no assignment");
}

/// <summary>One instance's share of a generation.</summary>
public sealed class AssignedInstance
{
    public string Instance { get; set; } = "";

    /// <summary>Where it takes records from the other instances (host:port); null when it runs the whole job alone.</summary>
    public string? Endpoint { get; set; }

    public List<int> Subtasks { get; set; } = [];
}
