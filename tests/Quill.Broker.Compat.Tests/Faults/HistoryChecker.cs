using System.Text;

namespace Quill.Broker.Compat.Tests.Faults;

/// <summary>What a violation is about: the kinds of wrong <see cref="HistoryChecker"/> looks for.</summary>
public enum ViolationKind
{
    /// <summary>An acknowledged record is not in the log.</summary>
    Lost,
    /// <summary>An acknowledged record is in the log, but not at the offset it was acknowledged with.</summary>
    Moved,
    /// <summary>A value is in the log more than once.</summary>
    Duplicate,
    /// <summary>A writer's records in one partition are not in the order it sent them.</summary>
    OutOfOrder,
    /// <summary>The log holds a value no writer sent.</summary>
    UnknownValue,
    /// <summary>A replica's copy differs from the log below the high watermark.</summary>
    ReplicaDiverged,
    /// <summary>A reader got a record that is not at that offset in the log.</summary>
    PhantomRead,
    /// <summary>No reader got an acknowledged record.</summary>
    NotConsumed,
    /// <summary>A reader went past a record: within one assignment, or from the group's committed offset.</summary>
    Skipped,
    /// <summary>A partition's ISR did not come back to every replica after healing.</summary>
    IsrNotRestored,
}

public sealed record Violation(ViolationKind Kind, string Detail)
{
    public override string ToString() => $"{Kind}: {Detail}";
}

/// <summary>The verdict on a history and what it counted; <see cref="ToString"/> is the report.</summary>
/// <param name="Rewinds">Times a reader went back within one assignment (librdkafka resetting its position, to the
/// start with auto.offset.reset=earliest, after OFFSET_OUT_OF_RANGE): allowed, but a sign of a fetch answered wrongly.</param>
public sealed record CheckReport(IReadOnlyList<Violation> Violations, int Acks, int Failures, int Reads, int Commits, int FatalErrors,
    int LogRecords, int Replicas, int Rewinds)
{
    public bool Valid => Violations.Count == 0;

    public override string ToString()
    {
        var text = new StringBuilder()
            .AppendLine($"{Acks} acknowledged, {Failures} failed, {FatalErrors} fatal producer errors; {LogRecords} records in the log, " +
                        $"{Replicas} replica copies compared; {Reads} reads ({Rewinds} rewinds), {Commits} commits; {Violations.Count} violations");
        foreach (var group in Violations.GroupBy(v => v.Kind))
        {
            text.AppendLine($"  {group.Key}: {group.Count()}");
            foreach (var v in group.Take(10)) text.AppendLine($"    {v.Detail}");
        }
        return text.ToString();
    }
}

/// <summary>
/// Judges a <see cref="BrokerHistory"/> against what acks=all, idempotent producers, replication and a consumer group
/// promise: every acknowledged record is in the log exactly once, at its acknowledged offset; no value twice; each
/// writer's records in a partition in the order sent; every replica identical to the log below the high watermark;
/// readers saw only records of the log, got every acknowledged one, never went past a record within an assignment,
/// and never started an assignment past the group's committed offset (at-least-once).
/// </summary>
public static class HistoryChecker
{
    public static CheckReport Check(BrokerHistory history)
    {
        var violations = new List<Violation>();
        foreach (string u in history.Unhealed) violations.Add(new(ViolationKind.IsrNotRestored, u));

        var log = history.FinalLogs.ToDictionary(p => p.Key, p => p.Value.ToDictionary(r => r.Offset, r => r.Value));
        var where = new Dictionary<string, List<(int Partition, long Offset)>>();
        foreach (var (partition, records) in history.FinalLogs)
            foreach (var (offset, value) in records)
            {
                if (!where.TryGetValue(value, out var places)) where[value] = places = [];
                places.Add((partition, offset));
            }

        CheckLog(history, where, violations);
        CheckAcks(history, log, where, violations);
        CheckReplicas(history, violations);
        int rewinds = CheckReaders(history, log, violations);

        return new CheckReport(violations, history.Acks.Count, history.Failures.Count, history.Reads.Count, history.Commits.Count,
            history.FatalErrors.Count, where.Values.Sum(p => p.Count), history.Replicas.Count, rewinds);
    }

    /// <summary>No value twice, none unknown, each writer's values in a partition in the order it sent them.</summary>
    private static void CheckLog(BrokerHistory history, Dictionary<string, List<(int Partition, long Offset)>> where, List<Violation> violations)
    {
        foreach (var (value, places) in where.Where(w => w.Value.Count > 1))
            violations.Add(new(ViolationKind.Duplicate, $"{value} is in the log {places.Count} times: {string.Join(", ", places.Select(p => $"{p.Partition}@{p.Offset}"))}"));
        foreach (var (partition, records) in history.FinalLogs)
        {
            var last = new Dictionary<int, (long Seq, long Offset)>();
            foreach (var (offset, value) in records.OrderBy(r => r.Offset))
            {
                if (BrokerHistory.ParseValue(value) is not var (writer, seq))
                {
                    violations.Add(new(ViolationKind.UnknownValue, $"partition {partition} offset {offset} holds '{value}', which no writer sent"));
                    continue;
                }
                if (last.TryGetValue(writer, out var before) && before.Seq >= seq)
                    violations.Add(new(ViolationKind.OutOfOrder,
                        $"partition {partition}: writer {writer}'s #{seq} at offset {offset} after its #{before.Seq} at offset {before.Offset}"));
                last[writer] = (seq, offset);
            }
        }
    }

    /// <summary>Every acknowledged record at its offset, below the high watermark.</summary>
    private static void CheckAcks(BrokerHistory history, Dictionary<int, Dictionary<long, string>> log,
        Dictionary<string, List<(int Partition, long Offset)>> where, List<Violation> violations)
    {
        foreach (var ack in history.Acks)
        {
            if (log.TryGetValue(ack.Partition, out var records) && records.TryGetValue(ack.Offset, out var value) && value == ack.Value) continue;
            string there = records is not null && records.TryGetValue(ack.Offset, out var other) ? $"'{other}' is there" : "nothing is there";
            if (where.TryGetValue(ack.Value, out var places))
                violations.Add(new(ViolationKind.Moved, $"{ack.Value} acknowledged at {ack.Partition}@{ack.Offset} ({there}) is at " +
                                                        string.Join(", ", places.Select(p => $"{p.Partition}@{p.Offset}"))));
            else
                violations.Add(new(ViolationKind.Lost, $"{ack.Value} acknowledged at {ack.Partition}@{ack.Offset} at {ack.TimeMs} ms is not in the log ({there})"));
        }
    }

    /// <summary>Every replica's copy below the high watermark is the log, record for record.</summary>
    private static void CheckReplicas(BrokerHistory history, List<Violation> violations)
    {
        foreach (var replica in history.Replicas)
        {
            long hw = history.HighWatermarks.GetValueOrDefault(replica.Partition);
            var expected = history.FinalLogs.GetValueOrDefault(replica.Partition) ?? [];
            var copy = replica.Records.Where(r => r.Offset < hw).ToList();
            int same = 0;
            while (same < copy.Count && same < expected.Count && copy[same] == expected[same]) same++;
            if (same == copy.Count && same == expected.Count) continue;
            string mine = same < copy.Count ? $"{copy[same].Offset}:'{copy[same].Value}'" : "its end";
            string theirs = same < expected.Count ? $"{expected[same].Offset}:'{expected[same].Value}'" : "its end";
            violations.Add(new(ViolationKind.ReplicaDiverged,
                $"broker {replica.Broker}'s copy of partition {replica.Partition} ({copy.Count} records below the high watermark {hw}, the log has " +
                $"{expected.Count}) differs at record {same}: it has {mine}, the log {theirs}"));
        }
    }

    /// <summary>
    /// Readers saw the log; every acknowledged record was read; within a run no record was passed over; a run starts at
    /// or before the highest offset the group had been asked to commit for the partition by then (0 if none). Returns
    /// how often a reader went back within a run.
    /// </summary>
    private static int CheckReaders(BrokerHistory history, Dictionary<int, Dictionary<long, string>> log, List<Violation> violations)
    {
        var read = new HashSet<(int, long)>();
        foreach (var r in history.Reads)
        {
            read.Add((r.Partition, r.Offset));
            string? value = log.TryGetValue(r.Partition, out var records) && records.TryGetValue(r.Offset, out var v) ? v : null;
            if (value != r.Value)
                violations.Add(new(ViolationKind.PhantomRead, $"reader {r.Reader} got '{r.Value}' at {r.Partition}@{r.Offset} at {r.TimeMs} ms; the log has " +
                                                             (value is null ? "nothing there" : $"'{value}'")));
        }
        foreach (var ack in history.Acks.Where(a => !read.Contains((a.Partition, a.Offset))))
            violations.Add(new(ViolationKind.NotConsumed, $"{ack.Value} at {ack.Partition}@{ack.Offset} was acknowledged but never read"));

        var commits = history.Commits.ToList();
        int rewinds = 0;
        foreach (var run in history.Reads.GroupBy(r => (r.Reader, r.Partition, r.Run)))
        {
            var (reader, partition, number) = run.Key;
            var records = log.GetValueOrDefault(partition) ?? [];
            var first = run.First();
            long committed = commits.Where(c => c.Partition == partition && c.TimeMs <= first.TimeMs).Select(c => c.Offset).DefaultIfEmpty(0).Max();
            if (first.Offset > committed && Passed(records, committed, first.Offset) is { } passed)
                violations.Add(new(ViolationKind.Skipped, $"reader {reader}'s assignment {number} of partition {partition} began at offset {first.Offset}, " +
                                                         $"past the committed offset {committed} (offset {passed} was never read from there)"));
            long previous = first.Offset;
            foreach (var r in run.Skip(1))
            {
                if (r.Offset > previous + 1 && Passed(records, previous + 1, r.Offset) is { } skipped)
                    violations.Add(new(ViolationKind.Skipped, $"reader {reader} read partition {partition} offset {r.Offset} right after {previous} " +
                                                             $"(assignment {number}), passing offset {skipped}"));
                if (r.Offset <= previous) rewinds++;
                previous = r.Offset;
            }
        }
        return rewinds;
    }

    /// <summary>The first offset in [from, to) that holds a record, or null.</summary>
    private static long? Passed(Dictionary<long, string> records, long from, long to)
    {
        for (long o = from; o < to; o++)
            if (records.ContainsKey(o)) return o;
        return null;
    }
}
