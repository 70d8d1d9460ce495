using Quill.Keeper.Ensemble.Tests.History;

namespace Quill.Keeper.Ensemble.Tests.Checking;

/// <summary>A znode's data and data version.</summary>
public readonly record struct RegisterState(string Value, long Version)
{
    public override string ToString() => $"\"{Value}\" v{Version}";
}

/// <summary>
/// One znode as a register with a version, as ZooKeeper's setData defines it: every successful set bumps the version
/// by one; a set with an expected version (compare-and-set) succeeds only if it matches. A read sees value and version.
/// The workload creates every key empty at version 0.
/// </summary>
/// <remarks>
/// Versions name the register's states, and the ops that completed reveal many of them: a read saw value X at version
/// N, a write produced N. An op of unknown outcome that took effect produced some version N with its own value, so it
/// cannot have produced a version at which another value was seen, nor one past the last version anybody saw (that
/// would explain nothing). The search would find that out by itself, much later; ruling it out at the step keeps the
/// search small when many ops of unknown outcome are open (every fault leaves some). Values are unique per write, as
/// the workload makes them.
/// </remarks>
public sealed class RegisterModel
{
    public static readonly RegisterState Initial = new("", 0);

    private readonly Dictionary<long, HashSet<string>> _seen = [];
    private readonly long _lastSeen;

    /// <param name="ops">The key's ops, whose completed ones tell which value each version had.</param>
    public RegisterModel(IEnumerable<Operation> ops)
    {
        foreach (var op in ops.Where(o => o.Outcome == Outcome.Ok && o.F is "read" or "write" or "cas" && o.Version is not null))
        {
            if (!_seen.TryGetValue(op.Version!.Value, out var values)) _seen[op.Version.Value] = values = new HashSet<string>(StringComparer.Ordinal);
            values.Add(op.Value ?? "");
        }
        _lastSeen = _seen.Count == 0 ? 0 : _seen.Keys.Max();
    }

    /// <summary>The ops this model checks: reads, writes and compare-and-sets that did or may have happened.</summary>
    public static bool Applies(Operation op) =>
        op.F is "read" or "write" or "cas" && op.Outcome != Outcome.Fail;

    /// <summary>Whether <paramref name="op"/> can take effect in <paramref name="state"/>, and the state after it. An op
    /// of unknown outcome is only ever placed where it takes effect: that it never did is the search's business
    /// (<see cref="LinearizabilityChecker"/> leaves it unplaced).</summary>
    public bool Step(RegisterState state, Operation op, out RegisterState next)
    {
        next = state;
        bool ok = op.Outcome == Outcome.Ok;
        switch (op.F)
        {
            case "read":
                return op.Value == state.Value && op.Version == state.Version;
            case "write":
                if (ok ? op.Version != state.Version + 1 : !CouldProduce(state.Version + 1, op.Value!)) return false;
                next = new RegisterState(op.Value!, state.Version + 1);
                return true;
            case "cas":
                if (state.Version != op.ExpectedVersion) return false;
                if (ok ? op.Version != state.Version + 1 : !CouldProduce(state.Version + 1, op.Value!)) return false;
                next = new RegisterState(op.Value!, state.Version + 1);
                return true;
            default:
                throw new ArgumentException($"not a register op: {op}");
        }
    }

    /// <summary>Whether an op of unknown outcome could have produced <paramref name="version"/> with its value: nobody
    /// saw another value there. Past the last version anybody saw, taking effect cannot explain anything that did not
    /// taking effect explains too, so it is not tried.</summary>
    private bool CouldProduce(long version, string value) =>
        version <= _lastSeen && (!_seen.TryGetValue(version, out var values) || (values.Count == 1 && values.Contains(value)));
}
