using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace Quill.Broker.Compat.Tests.Faults;

/// <summary>A record the broker acknowledged: writer <see cref="Writer"/>'s <see cref="Seq"/>th value, at this offset.</summary>
public sealed record Ack(int Writer, long Seq, string Value, int Partition, long Offset, long TimeMs);

/// <summary>A record whose delivery failed (it may or may not be in the log: a timeout says nothing).</summary>
public sealed record WriteFailure(int Writer, long Seq, string Value, int Partition, string Error, long TimeMs);

/// <summary>A record a reader of the consumer group got. <see cref="Run"/> counts the reader's assignments of the
/// partition: reads of one run follow each other without a gap.</summary>
public sealed record Read(int Reader, int Partition, long Offset, string Value, int Run, long TimeMs);

/// <summary>A reader assigned a partition (the start of a run), before it read anything of it.</summary>
public sealed record Assigned(int Reader, int Partition, int Run, long TimeMs);

/// <summary>A commit a reader sent (recorded before it is sent: a commit that seems to fail may still have been stored).</summary>
public sealed record CommitAttempt(int Reader, int Partition, long Offset, long TimeMs);

/// <summary>One broker's own copy of a partition, read from its segment files.</summary>
public sealed record ReplicaLog(int Broker, int Partition, IReadOnlyList<(long Offset, string Value)> Records);

/// <summary>
/// What a broker fault run saw: everything the writers and readers did (thread-safe to add to while it runs), and
/// after healing each partition's log as a client reads it up to the high watermark, the high watermarks, and every
/// replica's copy. <see cref="HistoryChecker"/> judges it.
/// </summary>
public sealed class BrokerHistory
{
    private readonly long _startMs = Environment.TickCount64;

    public ConcurrentQueue<Ack> Acks { get; } = new();
    public ConcurrentQueue<WriteFailure> Failures { get; } = new();
    public ConcurrentQueue<Read> Reads { get; } = new();
    public ConcurrentQueue<Assigned> Assignments { get; } = new();
    public ConcurrentQueue<CommitAttempt> Commits { get; } = new();
    /// <summary>Fatal errors of idempotent producers (the writer starts a new producer and goes on).</summary>
    public ConcurrentQueue<string> FatalErrors { get; } = new();

    /// <summary>Partition → its records from offset 0 up to the high watermark, as a fresh client reads them.</summary>
    public Dictionary<int, List<(long Offset, string Value)>> FinalLogs { get; } = [];
    /// <summary>Partition → its high watermark after healing.</summary>
    public Dictionary<int, long> HighWatermarks { get; } = [];
    public List<ReplicaLog> Replicas { get; } = [];
    /// <summary>Partitions whose ISR did not come back to every replica after healing, with what it was.</summary>
    public List<string> Unhealed { get; } = [];

    /// <summary>Milliseconds since the history began (the time stamp of every entry).</summary>
    public long Now => Environment.TickCount64 - _startMs;

    public static string ValueOf(int writer, long seq) => $"w{writer}-{seq}";

    /// <summary>The writer and sequence a value names, or null for a value no writer of this run makes.</summary>
    public static (int Writer, long Seq)? ParseValue(string value)
    {
        int dash = value.IndexOf('-');
        if (value.Length < 4 || value[0] != 'w' || dash < 2) return null;
        return int.TryParse(value.AsSpan(1, dash - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int writer)
               && long.TryParse(value.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long seq)
            ? (writer, seq)
            : null;
    }

    /// <summary>Writes everything as JSON lines ({"type": ..., fields}), for a look after the run.</summary>
    public void WriteTo(string path)
    {
        using var writer = new StreamWriter(path);
        void Line(string type, object entry)
        {
            var element = JsonSerializer.SerializeToElement(entry);
            var fields = new Dictionary<string, JsonElement> { ["type"] = JsonSerializer.SerializeToElement(type) };
            foreach (var p in element.EnumerateObject()) fields[p.Name] = p.Value;
            writer.WriteLine(JsonSerializer.Serialize(fields));
        }
        foreach (var a in Acks) Line("ack", a);
        foreach (var f in Failures) Line("failure", f);
        foreach (var a in Assignments) Line("assigned", a);
        foreach (var r in Reads) Line("read", r);
        foreach (var c in Commits) Line("commit", c);
        foreach (var e in FatalErrors) Line("fatal", new { Error = e });
        foreach (var (p, hw) in HighWatermarks) Line("high-watermark", new { Partition = p, Offset = hw });
        foreach (var r in Replicas)
            Line("replica", new { r.Broker, r.Partition, Records = r.Records.Select(x => new { x.Offset, x.Value }) });
        foreach (var u in Unhealed) Line("unhealed", new { What = u });
    }
}
