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
public static class RegisterModel
{
    public static readonly RegisterState Initial = new("", 0);

    /// <summary>The ops this model checks: reads, writes and compare-and-sets that did or may have happened.</summary>
    public static bool Applies(Operation op) =>
        op.F is "read" or "write" or "cas" && op.Outcome != Outcome.Fail;

    /// <summary>Whether <paramref name="op"/> can take effect in <paramref name="state"/>, and the state after it.
    /// An op of unknown outcome that could not have succeeded here counts as having had no effect.</summary>
    public static bool Step(RegisterState state, Operation op, out RegisterState next)
    {
        next = state;
        bool ok = op.Outcome == Outcome.Ok;
        switch (op.F)
        {
            case "read":
                return op.Value == state.Value && op.Version == state.Version;
            case "write":
                if (ok && op.Version != state.Version + 1) return false;
                next = new RegisterState(op.Value!, state.Version + 1);
                return true;
            case "cas":
                if (state.Version != op.ExpectedVersion) return !ok;
                if (ok && op.Version != state.Version + 1) return false;
                next = new RegisterState(op.Value!, state.Version + 1);
                return true;
            default:
                throw new ArgumentException($"not a register op: {op}");
        }
    }
}
