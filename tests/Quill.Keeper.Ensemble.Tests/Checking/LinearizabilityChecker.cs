using System.Diagnostics;
using System.Text;
using Quill.Keeper.Ensemble.Tests.History;

namespace Quill.Keeper.Ensemble.Tests.Checking;

public enum Verdict { Linearizable, NotLinearizable, Unknown }

/// <summary>The checker's answer for one key.</summary>
public sealed record KeyResult(string Key, Verdict Verdict, int Operations, Violation? Violation, string? Note = null);

/// <summary>
/// Where the longest partial linearization of a key got stuck: <see cref="Blocked"/> returned before it could be put
/// anywhere. The register was <see cref="State"/> after <see cref="LastLinearized"/>; <see cref="Open"/> are the ops
/// that were invoked but not yet placed at that point (the others that could have gone next). That is the smallest
/// window of the history the search shows to be impossible.
/// </summary>
public sealed record Violation(Operation Blocked, RegisterState State, IReadOnlyList<Operation> LastLinearized, IReadOnlyList<Operation> Open)
{
    public override string ToString()
    {
        var known = Open.Where(o => o.Outcome == Outcome.Ok).ToList();
        long from = known.Select(o => o.InvokedNs).Append(Blocked.InvokedNs).Min();
        var text = new StringBuilder()
            .AppendLine($"  window {from / 1e6:F1}..{Blocked.CompletedNs / 1e6:F1} ms: no order of these ops explains what they returned")
            .AppendLine($"  cannot place: {Blocked}")
            .AppendLine($"  register before it: {State}, after:");
        foreach (var op in LastLinearized) text.AppendLine($"    {op}");
        text.AppendLine($"  open at that point ({Open.Count}):");
        foreach (var op in Open.Take(25)) text.AppendLine($"    {op}");
        if (Open.Count > 25) text.AppendLine($"    ... {Open.Count - 25} more");
        return text.ToString();
    }
}

/// <summary>
/// Linearizability of one register per key, by Wing and Gong's search with Lowe's memoization as Porcupine does it:
/// walk the history's calls and returns in time order; at a call, try to linearize that op next (the model must
/// accept it) unless the same set of linearized ops has already been seen with the same state; at a return whose op
/// is not linearized yet, undo the last choice. Ops of unknown outcome return at the end of time, so they may take
/// effect anywhere after their call, or never: reaching the end of time with some still unplaced is a success.
/// Keys are independent registers and are checked apart.
/// </summary>
public static class LinearizabilityChecker
{
    public static IReadOnlyList<KeyResult> Check(IEnumerable<Operation> history, TimeSpan budgetPerKey) =>
        history.Where(RegisterModel.Applies)
            .GroupBy(op => op.Key!)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => CheckKey(g.Key, g.ToList(), budgetPerKey))
            .ToList();

    private sealed class Entry
    {
        public required Operation Op;
        public required int Index;
        public bool IsCall;
        public Entry? Match;
        public Entry? Prev;
        public Entry? Next;
    }

    public static KeyResult CheckKey(string key, IReadOnlyList<Operation> ops, TimeSpan budget)
    {
        var model = new RegisterModel(ops);
        var head = BuildList(ops);
        // The linearized set is identified by two independent 64-bit Zobrist hashes (xor of a random number per op):
        // a false match needs a 128-bit collision, and the cache then holds no copy of the set.
        var random = new Random(17);
        var zobrist = new (ulong A, ulong B)[ops.Count];
        for (int i = 0; i < ops.Count; i++) zobrist[i] = ((ulong)random.NextInt64(), (ulong)random.NextInt64());
        var seen = new HashSet<(ulong, ulong, RegisterState)>();
        var calls = new List<(Entry Call, RegisterState Before)>();
        var state = RegisterModel.Initial;
        (ulong A, ulong B) linearized = (0, 0);
        var clock = Stopwatch.StartNew();
        long steps = 0;

        int bestDepth = -1;
        Violation? best = null;

        var entry = head.Next;
        while (head.Next is not null)
        {
            if (++steps % 4096 == 0 && clock.Elapsed > budget)
                return new KeyResult(key, Verdict.Unknown, ops.Count, best,
                    $"search stopped after {budget.TotalSeconds:F0} s ({steps} steps, {seen.Count} states)");
            if (entry!.IsCall)
            {
                var z = zobrist[entry.Index];
                var next = (linearized.A ^ z.A, linearized.B ^ z.B);
                if (model.Step(state, entry.Op, out var after) && seen.Add((next.Item1, next.Item2, after)))
                {
                    calls.Add((entry, state));
                    state = after;
                    linearized = next;
                    Lift(entry);
                    entry = head.Next;
                }
                else entry = entry.Next;
            }
            else if (entry.Op.CompletedNs is null)
            {
                // Every op that completed is placed; the ops of unknown outcome still unplaced never took effect.
                return new KeyResult(key, Verdict.Linearizable, ops.Count, null);
            }
            else
            {
                // This op returned and is not linearized: whatever was chosen since its call cannot be right.
                if (calls.Count > bestDepth)
                {
                    bestDepth = calls.Count;
                    best = Describe(head, entry, state, calls);
                }
                if (calls.Count == 0) return new KeyResult(key, Verdict.NotLinearizable, ops.Count, best);
                var (call, before) = calls[^1];
                calls.RemoveAt(calls.Count - 1);
                state = before;
                var z = zobrist[call.Index];
                linearized = (linearized.A ^ z.A, linearized.B ^ z.B);
                Unlift(call);
                entry = call.Next;
            }
        }
        return new KeyResult(key, Verdict.Linearizable, ops.Count, null);
    }

    private static Violation Describe(Entry head, Entry blocked, RegisterState state, List<(Entry Call, RegisterState Before)> calls)
    {
        var open = new List<Operation>();
        for (var e = head.Next; e is not null && e != blocked; e = e.Next)
            if (e.IsCall && e.Op != blocked.Op) open.Add(e.Op);
        var last = calls.Skip(Math.Max(0, calls.Count - 5)).Select(c => c.Call.Op).ToList();
        return new Violation(blocked.Op, state, last, open);
    }

    private static Entry BuildList(IReadOnlyList<Operation> ops)
    {
        var entries = new List<(long Time, Entry Entry)>(ops.Count * 2);
        for (int i = 0; i < ops.Count; i++)
        {
            var call = new Entry { Op = ops[i], Index = i, IsCall = true };
            var ret = new Entry { Op = ops[i], Index = i, IsCall = false, Match = null };
            call.Match = ret;
            entries.Add((ops[i].InvokedNs, call));
            entries.Add((ops[i].CompletedNs ?? long.MaxValue, ret));
        }
        // At equal times calls go first: the more permissive order.
        entries.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : b.Entry.IsCall.CompareTo(a.Entry.IsCall));
        var head = new Entry { Op = null!, Index = -1 };
        var prev = head;
        foreach (var (_, e) in entries)
        {
            prev.Next = e;
            e.Prev = prev;
            prev = e;
        }
        return head;
    }

    private static void Lift(Entry call)
    {
        call.Prev!.Next = call.Next;
        call.Next!.Prev = call.Prev;
        var ret = call.Match!;
        ret.Prev!.Next = ret.Next;
        if (ret.Next is not null) ret.Next.Prev = ret.Prev;
    }

    private static void Unlift(Entry call)
    {
        var ret = call.Match!;
        ret.Prev!.Next = ret;
        if (ret.Next is not null) ret.Next.Prev = ret;
        call.Prev!.Next = call;
        call.Next!.Prev = call;
    }
}
