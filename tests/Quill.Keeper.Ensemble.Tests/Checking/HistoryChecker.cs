using System.Globalization;
using System.Text;
using Quill.Keeper.Ensemble.Tests.History;

namespace Quill.Keeper.Ensemble.Tests.Checking;

/// <summary>Everything the checker found in one history.</summary>
public sealed record CheckReport(IReadOnlyList<KeyResult> Keys, IReadOnlyList<string> Problems, IReadOnlyList<Operation> History)
{
    /// <summary>Every key linearizable and no other problem.</summary>
    public bool Valid => Problems.Count == 0 && Keys.All(k => k.Verdict == Verdict.Linearizable);

    public override string ToString()
    {
        var text = new StringBuilder();
        var counts = History.GroupBy(o => (o.F, o.Outcome)).OrderBy(g => g.Key.F, StringComparer.Ordinal).ThenBy(g => g.Key.Outcome)
            .Select(g => $"{g.Key.F} {g.Key.Outcome.ToString().ToLowerInvariant()} {g.Count()}");
        text.AppendLine($"{History.Count} ops: {string.Join(", ", counts)}");
        foreach (var key in Keys)
        {
            text.AppendLine($"{key.Key}: {key.Verdict} ({key.Operations} ops){(key.Note is null ? "" : $": {key.Note}")}");
            if (key.Verdict != Verdict.Linearizable && key.Violation is not null) text.Append(key.Violation);
        }
        foreach (var problem in Problems) text.AppendLine(problem);
        text.AppendLine(Valid ? "VALID" : "INVALID");
        return text.ToString();
    }
}

/// <summary>
/// Checks a workload history: linearizability of each key (<see cref="LinearizabilityChecker"/>), and what a
/// register check does not see: acknowledged writes still there at the end, sequential node names unique and in
/// real-time order and all still there, no ephemeral node outliving its closed session.
/// </summary>
public static class HistoryChecker
{
    public static CheckReport Check(IReadOnlyList<Operation> history, TimeSpan budgetPerKey)
    {
        var problems = new List<string>();
        problems.AddRange(LostWrites(history));
        problems.AddRange(SequentialNodes(history));
        problems.AddRange(Ephemerals(history));
        problems.AddRange(Divergence(history));
        return new CheckReport(LinearizabilityChecker.Check(history, budgetPerKey), problems, history);
    }

    /// <summary>
    /// Each server's final (synced) read of a key must show every acknowledged write: a version below an acknowledged
    /// write's version means that write was rolled back; the same version with other data, that it was replaced.
    /// </summary>
    public static IEnumerable<string> LostWrites(IReadOnlyList<Operation> history)
    {
        var finals = history.Where(o => o.IsFinal && o.F == "read" && o.Outcome == Outcome.Ok).ToList();
        var acknowledged = history.Where(o => o.F is "write" or "cas" && o.Outcome == Outcome.Ok).ToList();
        if (finals.Count == 0)
        {
            if (acknowledged.Count > 0) yield return "lost writes: not checked, the history has no final reads";
            yield break;
        }
        foreach (var write in acknowledged)
        {
            foreach (var final in finals.Where(f => f.Key == write.Key))
            {
                if (final.Version < write.Version)
                    yield return $"lost write: {write} acknowledged, but the final read {final} has an older version";
                else if (final.Version == write.Version && final.Value != write.Value)
                    yield return $"lost write: {write} acknowledged, but the final read {final} has other data at that version";
            }
        }
    }

    /// <summary>
    /// The final reads come after every fault was healed and the workload stopped: each server must show the same
    /// value and version of every key (a server that did not converge, say after a partition, shows here).
    /// </summary>
    public static IEnumerable<string> Divergence(IReadOnlyList<Operation> history)
    {
        foreach (var key in history.Where(o => o.IsFinal && o.F == "read" && o.Outcome == Outcome.Ok).GroupBy(o => o.Key!))
        {
            var distinct = key.DistinctBy(o => (o.Value, o.Version)).ToList();
            if (distinct.Count > 1)
                yield return $"servers diverged on {key.Key}: the final reads differ: {string.Join("; ", distinct.Select(o => $"{o} (server {o.Process - HistoryFile.FinalProcessBase + 1})"))}";
        }
    }

    /// <summary>
    /// Sequential nodes: names unique; a create that began after another was acknowledged got a higher number; every
    /// acknowledged one is in each server's final listing.
    /// </summary>
    public static IEnumerable<string> SequentialNodes(IReadOnlyList<Operation> history)
    {
        foreach (var parent in history.Where(o => o.F == "create-seq" && o.Outcome == Outcome.Ok).GroupBy(o => o.Key!))
        {
            var creates = parent.ToList();
            foreach (var twins in creates.GroupBy(o => o.Value).Where(g => g.Count() > 1))
                yield return $"sequential node {parent.Key}/{twins.Key} created {twins.Count()} times: {string.Join("; ", twins)}";

            // Sweep the creates by invocation, knowing the highest number acknowledged before each one began.
            var byCompletion = creates.OrderBy(o => o.CompletedNs).ToList();
            int done = 0;
            Operation? highest = null;
            foreach (var create in creates.OrderBy(o => o.InvokedNs))
            {
                while (done < byCompletion.Count && byCompletion[done].CompletedNs < create.InvokedNs)
                {
                    var c = byCompletion[done++];
                    if (highest is null || Number(c) > Number(highest)) highest = c;
                }
                if (highest is not null && Number(create) <= Number(highest))
                    yield return $"sequential node out of order: {create} began after {highest} was acknowledged, with a number not above it";
            }

            foreach (var listing in history.Where(o => o.IsFinal && o.F == "list" && o.Key == parent.Key && o.Outcome == Outcome.Ok))
            {
                var names = listing.Names!.ToHashSet(StringComparer.Ordinal);
                foreach (var create in creates.Where(c => !names.Contains(c.Value!)))
                    yield return $"lost sequential node: {create} acknowledged, missing from the final listing {listing}";
            }
        }
    }

    /// <summary>
    /// An ephemeral op is ok only once the server acknowledged closing its session: from then on its node must not
    /// be seen, neither by a later synced exists nor in the final listing.
    /// </summary>
    public static IEnumerable<string> Ephemerals(IReadOnlyList<Operation> history)
    {
        var closed = history.Where(o => o.F == "ephemeral" && o.Outcome == Outcome.Ok).ToDictionary(o => o.Key!, StringComparer.Ordinal);
        foreach (var exists in history.Where(o => o.F == "eph-exists" && o.Outcome == Outcome.Ok && o.Value == "true"))
        {
            if (closed.TryGetValue(exists.Key!, out var op) && exists.InvokedNs > op.CompletedNs)
                yield return $"ephemeral outlived its session: {exists} after {op}";
        }
        foreach (var listing in history.Where(o => o.IsFinal && o.F == "list" && o.Outcome == Outcome.Ok))
        {
            foreach (var name in listing.Names!)
            {
                if (closed.TryGetValue($"{listing.Key}/{name}", out var op))
                    yield return $"ephemeral outlived its session: {listing.Key}/{name} in the final listing {listing} after {op}";
            }
        }
    }

    private static long Number(Operation create) =>
        long.Parse(create.Value![^10..], NumberStyles.None, CultureInfo.InvariantCulture);
}
