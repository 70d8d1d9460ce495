using Quill.Keeper.Ensemble.Tests.Checking;
using Quill.Keeper.Ensemble.Tests.History;

namespace Quill.Keeper.Ensemble.Tests;

/// <summary>The checker on handmade histories: clean ones pass, each kind of anomaly is caught.</summary>
public sealed class CheckerTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    [Fact]
    public void a_sequential_history_of_writes_reads_and_cas_is_linearizable()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "write", "/k", "a", 1);
        h.Ok(1, 20, 30, "read", "/k", "a", 1);
        h.Ok(0, 40, 50, "cas", "/k", "b", 2, expected: 1);
        h.Ok(1, 60, 70, "read", "/k", "b", 2);
        AssertLinearizable(h);
    }

    [Fact]
    public void concurrent_ops_are_linearizable_when_some_order_explains_them()
    {
        var h = new HistoryBuilder();
        // The write and both reads overlap: one read may see the old value and one the new, in either real-time order
        // as long as the read of "" is placed before the write.
        h.Ok(0, 0, 100, "write", "/k", "a", 1);
        h.Ok(1, 10, 90, "read", "/k", "a", 1);
        h.Ok(2, 20, 110, "read", "/k", "", 0);
        AssertLinearizable(h);
    }

    [Fact]
    public void a_write_of_unknown_outcome_may_have_happened_or_not()
    {
        var h = new HistoryBuilder();
        h.Info(0, 0, "write", "/k", "lost?");
        h.Ok(1, 10, 20, "read", "/k", "", 0);
        h.Ok(1, 30, 40, "read", "/k", "lost?", 1);
        h.Ok(2, 50, 60, "write", "/k", "b", 2);
        h.Info(3, 70, "write", "/j", "never");
        h.Ok(4, 80, 90, "read", "/j", "", 0);
        AssertLinearizable(h);
    }

    [Fact]
    public void a_stale_read_after_an_acknowledged_write_is_caught()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "write", "/k", "a", 1);
        h.Ok(0, 20, 30, "write", "/k", "b", 2);
        var stale = h.Ok(1, 40, 50, "read", "/k", "a", 1);
        var report = HistoryChecker.Check(h.Operations, Budget);

        var key = Assert.Single(report.Keys);
        Assert.Equal(Verdict.NotLinearizable, key.Verdict);
        Assert.Equal(stale, key.Violation!.Blocked.Id);
        Assert.Equal(new RegisterState("b", 2), key.Violation.State);
        Assert.False(report.Valid);
    }

    [Fact]
    public void a_read_of_a_value_never_written_is_caught()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "write", "/k", "a", 1);
        h.Ok(1, 5, 15, "read", "/k", "z", 1);
        Assert.Equal(Verdict.NotLinearizable, Assert.Single(HistoryChecker.Check(h.Operations, Budget).Keys).Verdict);
    }

    [Fact]
    public void two_successful_cas_from_the_same_version_are_caught()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "write", "/k", "a", 1);
        h.Ok(1, 20, 40, "cas", "/k", "b", 2, expected: 1);
        h.Ok(2, 25, 45, "cas", "/k", "c", 2, expected: 1);
        var report = HistoryChecker.Check(h.Operations, Budget);
        Assert.Equal(Verdict.NotLinearizable, Assert.Single(report.Keys).Verdict);
        Assert.Contains("cas /k if v1", report.ToString());
    }

    [Fact]
    public void a_cas_that_failed_is_no_effect_and_a_cas_of_unknown_outcome_may_have_won()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "write", "/k", "a", 1);
        h.Fail(1, 20, 30, "cas", "/k", "x", expected: 0);
        h.Info(2, 35, "cas", "/k", "c", expected: 1);
        h.Ok(1, 40, 50, "read", "/k", "c", 2);
        AssertLinearizable(h);
    }

    [Fact]
    public void an_acknowledged_write_missing_from_the_final_reads_is_a_lost_write()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "write", "/k", "a", 1);
        h.Ok(0, 20, 30, "write", "/k", "b", 2);
        h.Ok(HistoryFile.FinalProcessBase, 100, 110, "read", "/k", "a", 1);
        var lost = HistoryChecker.LostWrites(h.Operations).ToList();
        Assert.Contains(lost, p => p.StartsWith("lost write:", StringComparison.Ordinal) && p.Contains("write /k \"b\""));
        // The register check sees the same history as a stale read.
        Assert.Equal(Verdict.NotLinearizable, Assert.Single(HistoryChecker.Check(h.Operations, Budget).Keys).Verdict);
    }

    [Fact]
    public void a_write_replaced_at_its_own_version_is_a_lost_write()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "write", "/k", "a", 1);
        h.Ok(HistoryFile.FinalProcessBase, 100, 110, "read", "/k", "other", 1);
        Assert.Single(HistoryChecker.LostWrites(h.Operations));
    }

    [Fact]
    public void final_reads_that_show_every_acknowledged_write_find_nothing_lost()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "write", "/k", "a", 1);
        h.Info(1, 5, "write", "/k", "maybe");
        h.Ok(HistoryFile.FinalProcessBase, 100, 110, "read", "/k", "maybe", 2);
        h.Ok(HistoryFile.FinalProcessBase + 1, 100, 110, "read", "/k", "maybe", 2);
        Assert.Empty(HistoryChecker.LostWrites(h.Operations));
        AssertValid(h);
    }

    [Fact]
    public void servers_whose_final_reads_differ_have_diverged()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "write", "/k", "a", 1);
        h.Ok(0, 20, 30, "write", "/k", "b", 2);
        h.Ok(HistoryFile.FinalProcessBase, 100, 110, "read", "/k", "b", 2);
        h.Ok(HistoryFile.FinalProcessBase + 1, 120, 130, "read", "/k", "b", 2);
        Assert.Empty(HistoryChecker.Divergence(h.Operations));
        h.Ok(HistoryFile.FinalProcessBase + 2, 140, 150, "read", "/k", "c", 3);
        var problem = Assert.Single(HistoryChecker.Divergence(h.Operations));
        Assert.Contains("server 3", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void sequential_nodes_must_be_unique_increasing_in_real_time_and_kept()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "create-seq", "/seq", "n-0000000001");
        h.Ok(1, 20, 30, "create-seq", "/seq", "n-0000000001");
        h.Ok(2, 40, 50, "create-seq", "/seq", "n-0000000000");
        h.List(HistoryFile.FinalProcessBase, 100, 110, "/seq", "n-0000000001");
        var problems = HistoryChecker.SequentialNodes(h.Operations).ToList();
        Assert.Contains(problems, p => p.Contains("created 2 times"));
        Assert.Contains(problems, p => p.StartsWith("sequential node out of order", StringComparison.Ordinal) && p.Contains("n-0000000000"));
        Assert.Contains(problems, p => p.StartsWith("lost sequential node", StringComparison.Ordinal) && p.Contains("n-0000000000"));
    }

    [Fact]
    public void concurrent_sequential_creates_may_be_numbered_in_either_order()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 50, "create-seq", "/seq", "n-0000000001");
        h.Ok(1, 10, 40, "create-seq", "/seq", "n-0000000000");
        h.Ok(0, 60, 70, "create-seq", "/seq", "n-0000000002");
        h.List(HistoryFile.FinalProcessBase, 100, 110, "/seq", "n-0000000000", "n-0000000001", "n-0000000002");
        Assert.Empty(HistoryChecker.SequentialNodes(h.Operations));
    }

    [Fact]
    public void an_ephemeral_seen_after_its_session_closed_is_caught()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "ephemeral", "/eph/e-1");
        h.Ok(0, 20, 30, "eph-exists", "/eph/e-1", "true");
        h.Info(1, 0, "ephemeral", "/eph/e-2");
        h.List(HistoryFile.FinalProcessBase, 100, 110, "/eph", "e-1", "e-2");
        var problems = HistoryChecker.Ephemerals(h.Operations).ToList();
        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => Assert.Contains("/eph/e-1", p));
    }

    [Fact]
    public void a_long_concurrent_history_checks_quickly()
    {
        // Six processes writing and reading in overlapping rounds, as the workload does: the memoized search must
        // not blow up on ordinary concurrency.
        var h = new HistoryBuilder();
        var value = "";
        long version = 0, t = 0;
        for (int round = 0; round < 2000; round++, t += 100)
        {
            int writer = round % 6;
            h.Ok(writer, t, t + 60, "write", "/k", $"v{round}", version + 1);
            for (int r = 1; r < 3; r++) h.Ok((writer + r) % 6 + 6, t + 5 * r, t + 50, "read", "/k", value, version);
            value = $"v{round}";
            version++;
        }
        AssertLinearizable(h);
    }

    [Fact]
    public void a_version_nobody_saw_is_explained_by_a_write_of_unknown_outcome()
    {
        var h = new HistoryBuilder();
        h.Ok(0, 0, 10, "write", "/k", "a", 1);
        h.Info(1, 15, "write", "/k", "unseen");
        h.Ok(0, 20, 30, "write", "/k", "b", 3);
        h.Ok(2, 40, 50, "read", "/k", "b", 3);
        AssertLinearizable(h);

        // Without it, version 2 has no writer.
        var without = new HistoryBuilder();
        without.Ok(0, 0, 10, "write", "/k", "a", 1);
        without.Ok(0, 20, 30, "write", "/k", "b", 3);
        Assert.Equal(Verdict.NotLinearizable, Assert.Single(LinearizabilityChecker.Check(without.Operations, Budget)).Verdict);
    }

    [Fact]
    public void a_stale_read_is_caught_quickly_with_many_writes_of_unknown_outcome_open()
    {
        // What a fault leaves behind: writes that timed out, any of which may still take effect. Their number must
        // not make the search exponential.
        var h = new HistoryBuilder();
        for (int i = 0; i < 40; i++) h.Info(100 + i, i, "write", "/k", $"unknown-{i}");
        long t = 100;
        for (int v = 1; v <= 500; v++, t += 20)
        {
            h.Ok(0, t, t + 5, "write", "/k", $"w{v}", v);
            h.Ok(1, t + 10, t + 15, "read", "/k", $"w{v}", v);
        }
        var stale = h.Ok(2, t + 10, t + 15, "read", "/k", "w400", 400);
        var key = Assert.Single(LinearizabilityChecker.Check(h.Operations, Budget));
        Assert.Equal(Verdict.NotLinearizable, key.Verdict);
        Assert.Equal(stale, key.Violation!.Blocked.Id);
    }

    private static void AssertLinearizable(HistoryBuilder h)
    {
        var keys = LinearizabilityChecker.Check(h.Operations, Budget);
        Assert.True(keys.All(k => k.Verdict == Verdict.Linearizable), string.Join('\n', keys.Select(k => $"{k.Key}: {k.Verdict}\n{k.Violation}")));
    }

    private static void AssertValid(HistoryBuilder h)
    {
        var report = HistoryChecker.Check(h.Operations, Budget);
        Assert.True(report.Valid, report.ToString());
    }

    /// <summary>Operations as the workload would record them, with explicit times.</summary>
    private sealed class HistoryBuilder
    {
        public List<Operation> Operations { get; } = [];

        public int Ok(long process, long from, long to, string f, string key, string? value = null, long? version = null, long? expected = null) =>
            Add(new Operation(Operations.Count, process, f, key, Outcome.Ok, value, version, expected, null, from, to));

        public int Fail(long process, long from, long to, string f, string key, string? value = null, long? expected = null) =>
            Add(new Operation(Operations.Count, process, f, key, Outcome.Fail, value, null, expected, null, from, to));

        public int Info(long process, long from, string f, string key, string? value = null, long? expected = null) =>
            Add(new Operation(Operations.Count, process, f, key, Outcome.Info, value, null, expected, null, from, null));

        public int List(long process, long from, long to, string parent, params string[] names) =>
            Add(new Operation(Operations.Count, process, "list", parent, Outcome.Ok, null, null, null, names, from, to));

        private int Add(Operation op)
        {
            Operations.Add(op);
            return op.Id;
        }
    }
}
