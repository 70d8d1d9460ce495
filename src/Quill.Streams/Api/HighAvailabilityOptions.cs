namespace Quill.Streams.Api;

/// <summary>
/// High availability through Keeper or Apache ZooKeeper (as Flink's ZooKeeper HA services): every instance of the job
/// started with the same settings joins one leader election under <see cref="Root"/>/&lt;job id&gt;; the leader runs the
/// job and records each completed checkpoint there, the others wait as standbys and take over, from the newest
/// completed checkpoint, when the leader's session ends.
/// </summary>
public sealed class HighAvailabilityOptions
{
    /// <summary>The coordination service's connect string (host:port[,host:port...][/chroot]).</summary>
    public required string Keeper { get; init; }

    /// <summary>The znode under which each job has its own root (<c>Root/JobId</c>).</summary>
    public string Root { get; init; } = "/quill-streams";

    /// <summary>The job's id in Keeper (default: the job name). Instances of one job share it.</summary>
    public string? JobId { get; init; }

    /// <summary>This instance's name in the election and in its info znode (default: host, process id and a random suffix).</summary>
    public string? InstanceId { get; init; }

    /// <summary>
    /// The Keeper session timeout to ask for: how long after a leader dies (kill -9) its session expires and a standby
    /// takes over. The server clamps it (by default to [2, 20] ticks of its tickTime).
    /// </summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Told each change of this instance's role (standby, leader, lost), one line each; null: silent.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Scale-out: the job runs spread over every instance started with this set, instead of in the leader alone. The
    /// leader assigns each instance some of the job's subtasks (subtask s of every stage to the s mod n-th instance,
    /// in id order), records the assignment in Keeper, and assigns again from the newest checkpoint whenever an
    /// instance joins, leaves or fails. Records between instances go over TCP (<see cref="DataHost"/>), so shuffled
    /// records must round-trip through System.Text.Json. Under exactly-once the followers' sink tasks write through the
    /// leader, into the job's one transaction per checkpoint (all sink output passes through the leader).
    /// </summary>
    public bool ScaleOut { get; init; }

    /// <summary>Scale-out: the address this instance listens on for the other instances' records (port chosen free).</summary>
    public string DataHost { get; init; } = "127.0.0.1";

    internal string EffectiveJobId(string jobName) => JobId ?? jobName;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Keeper)) throw new ArgumentException("HighAvailability.Keeper (a connect string) is required");
        if (!Root.StartsWith('/') || (Root.Length > 1 && Root.EndsWith('/')))
            throw new ArgumentException($"HighAvailability.Root must be an absolute znode path without a trailing slash: '{Root}'");
        if (JobId is { } id && (id.Length == 0 || id.Contains('/'))) throw new ArgumentException($"HighAvailability.JobId must be a non-empty znode name: '{id}'");
        if (ScaleOut && !System.Net.IPAddress.TryParse(DataHost, out _))
            throw new ArgumentException($"HighAvailability.DataHost must be an IP address the other instances reach this one on: '{DataHost}'");
        if (SessionTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(SessionTimeout), SessionTimeout, "must be positive");
    }
}
