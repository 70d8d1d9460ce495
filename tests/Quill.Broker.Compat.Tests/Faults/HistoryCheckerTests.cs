namespace Quill.Broker.Compat.Tests.Faults;

/// <summary>The checker on small histories made by hand: a clean one passes, and each kind of wrong is reported.</summary>
public sealed class HistoryCheckerTests
{
    /// <summary>Two writers, two partitions, four records each, all acknowledged, on three identical replicas, read by
    /// one reader from the start with a commit in between.</summary>
    private static BrokerHistory Clean()
    {
        var history = new BrokerHistory();
        for (int partition = 0; partition < 2; partition++)
        {
            var records = new List<(long, string)>();
            for (int i = 0; i < 4; i++)
            {
                int writer = i % 2;
                long seq = partition * 10 + i;
                string value = BrokerHistory.ValueOf(writer, seq);
                records.Add((i, value));
                history.Acks.Enqueue(new Ack(writer, seq, value, partition, i, 10 + i));
            }
            history.FinalLogs[partition] = records;
            history.HighWatermarks[partition] = records.Count;
            for (int broker = 1; broker <= 3; broker++) history.Replicas.Add(new ReplicaLog(broker, partition, [.. records]));
            history.Assignments.Enqueue(new Assigned(1, partition, 1, 20));
            foreach (var (offset, value) in records)
            {
                history.Reads.Enqueue(new Read(1, partition, offset, value, 1, 30 + offset));
                if (offset == 1) history.Commits.Enqueue(new CommitAttempt(1, partition, 2, 32));
            }
        }
        return history;
    }

    private static void AssertOnly(BrokerHistory history, ViolationKind kind)
    {
        var report = HistoryChecker.Check(history);
        Assert.False(report.Valid, report.ToString());
        Assert.Contains(report.Violations, v => v.Kind == kind);
        Assert.All(report.Violations, v => Assert.True(v.Kind == kind || v.Kind == ViolationKind.NotConsumed || v.Kind == ViolationKind.PhantomRead,
            $"unexpected {v}"));
    }

    private static BrokerHistory WithLog(BrokerHistory history, int partition, List<(long, string)> records)
    {
        history.FinalLogs[partition] = records;
        history.HighWatermarks[partition] = records.Count == 0 ? 0 : records[^1].Item1 + 1;
        history.Replicas.RemoveAll(r => r.Partition == partition);
        for (int broker = 1; broker <= 3; broker++) history.Replicas.Add(new ReplicaLog(broker, partition, [.. records]));
        return history;
    }

    [Fact]
    public void a_clean_history_checks_clean_and_is_counted()
    {
        var report = HistoryChecker.Check(Clean());
        Assert.True(report.Valid, report.ToString());
        Assert.Equal(8, report.Acks);
        Assert.Equal(8, report.LogRecords);
        Assert.Equal(6, report.Replicas);
        Assert.Equal(8, report.Reads);
        Assert.Equal(0, report.Rewinds);
    }

    [Fact]
    public void a_reader_going_back_within_an_assignment_is_a_rewind_not_a_violation()
    {
        var history = Clean();
        history.Reads.Enqueue(new Read(1, 0, 0, history.FinalLogs[0][0].Item2, 1, 80));
        history.Reads.Enqueue(new Read(1, 0, 1, history.FinalLogs[0][1].Item2, 1, 81));
        var report = HistoryChecker.Check(history);
        Assert.True(report.Valid, report.ToString());
        Assert.Equal(1, report.Rewinds);
    }

    [Fact]
    public void an_acknowledged_record_missing_from_the_log_is_lost()
    {
        var history = Clean();
        var log = history.FinalLogs[1];
        WithLog(history, 1, [.. log.Take(2)]);
        var report = HistoryChecker.Check(history);
        Assert.Contains(report.Violations, v => v.Kind == ViolationKind.Lost && v.Detail.Contains("w0-12"));
        Assert.Contains(report.Violations, v => v.Kind == ViolationKind.Lost && v.Detail.Contains("w1-13"));
    }

    [Fact]
    public void an_acknowledged_record_at_another_offset_is_reported_moved()
    {
        var history = Clean();
        var log = history.FinalLogs[0];
        // w0-0 acknowledged at 0 but written again later (what a lost ack followed by a retry would look like).
        WithLog(history, 0, [(0, log[1].Item2), (1, log[2].Item2), (2, log[3].Item2), (3, log[0].Item2)]);
        var report = HistoryChecker.Check(history);
        Assert.Contains(report.Violations, v => v.Kind == ViolationKind.Moved && v.Detail.StartsWith("w0-0 ", StringComparison.Ordinal));
        Assert.Contains(report.Violations, v => v.Kind == ViolationKind.OutOfOrder);
    }

    [Fact]
    public void a_value_twice_in_the_log_is_a_duplicate()
    {
        var history = Clean();
        // Partition 1's last value (w1-13) again at the end of partition 0, after w1-3: in order, but twice.
        WithLog(history, 0, [.. history.FinalLogs[0], (4, history.FinalLogs[1][3].Item2)]);
        AssertOnly(history, ViolationKind.Duplicate);
    }

    [Fact]
    public void a_writer_s_records_out_of_order_in_a_partition_are_reported()
    {
        var history = new BrokerHistory();
        WithLog(history, 0, [(0, "w3-5"), (1, "w3-4")]);
        AssertOnly(history, ViolationKind.OutOfOrder);
    }

    [Fact]
    public void a_replica_that_differs_below_the_high_watermark_diverged_but_one_longer_above_it_did_not()
    {
        var history = Clean();
        var longer = history.Replicas.First(r => r.Partition == 0);
        history.Replicas.Remove(longer);
        history.Replicas.Add(longer with { Records = [.. longer.Records, (4, "w9-9")] });
        Assert.True(HistoryChecker.Check(history).Valid);

        var other = history.Replicas.First(r => r.Partition == 1 && r.Broker == 2);
        history.Replicas.Remove(other);
        history.Replicas.Add(other with { Records = [other.Records[0], (1, "w5-1"), .. other.Records.Skip(2)] });
        var report = HistoryChecker.Check(history);
        Assert.Equal(ViolationKind.ReplicaDiverged, Assert.Single(report.Violations).Kind);
        Assert.Contains("broker 2's copy of partition 1", report.Violations[0].Detail);
    }

    [Fact]
    public void a_replica_missing_records_below_the_high_watermark_diverged()
    {
        var history = Clean();
        var short_ = history.Replicas.First(r => r.Partition == 0 && r.Broker == 3);
        history.Replicas.Remove(short_);
        history.Replicas.Add(short_ with { Records = [.. short_.Records.Take(3)] });
        AssertOnly(history, ViolationKind.ReplicaDiverged);
    }

    [Fact]
    public void an_acknowledged_record_no_reader_got_is_not_consumed()
    {
        var history = Clean();
        var reads = history.Reads.Where(r => !(r.Partition == 0 && r.Offset == 3)).ToList();
        history.Reads.Clear();
        foreach (var r in reads) history.Reads.Enqueue(r);
        AssertOnly(history, ViolationKind.NotConsumed);
    }

    [Fact]
    public void a_reader_that_jumps_over_a_record_within_an_assignment_skipped()
    {
        var history = Clean();
        var reads = history.Reads.Where(r => !(r.Partition == 1 && r.Offset == 2)).ToList();
        history.Reads.Clear();
        foreach (var r in reads) history.Reads.Enqueue(r);
        // Another reader read offset 2 later, so nothing is unread: the jump itself is the violation.
        history.Reads.Enqueue(new Read(2, 1, 2, history.FinalLogs[1][2].Item2, 1, 100));
        var report = HistoryChecker.Check(history);
        Assert.Equal(ViolationKind.Skipped, Assert.Single(report.Violations).Kind);
    }

    [Fact]
    public void an_assignment_that_begins_past_the_committed_offset_skipped_but_one_at_or_before_it_did_not()
    {
        var history = Clean();
        // Reader 2 takes partition 0 over after the commit of offset 2 and starts at 2: fine; at 3: it passed offset 2.
        history.Reads.Enqueue(new Read(2, 0, 2, history.FinalLogs[0][2].Item2, 1, 50));
        history.Reads.Enqueue(new Read(2, 0, 3, history.FinalLogs[0][3].Item2, 1, 51));
        Assert.True(HistoryChecker.Check(history).Valid, HistoryChecker.Check(history).ToString());
        history.Reads.Enqueue(new Read(2, 0, 3, history.FinalLogs[0][3].Item2, 2, 60));
        var report = HistoryChecker.Check(history);
        Assert.Equal(ViolationKind.Skipped, Assert.Single(report.Violations).Kind);
        Assert.Contains("committed offset 2", report.Violations[0].Detail);
    }

    [Fact]
    public void a_read_of_a_record_the_log_does_not_hold_is_a_phantom_read()
    {
        var history = Clean();
        history.Reads.Enqueue(new Read(1, 0, 7, "w0-77", 1, 70));
        var report = HistoryChecker.Check(history);
        Assert.Contains(report.Violations, v => v.Kind == ViolationKind.PhantomRead && v.Detail.Contains("w0-77"));
    }

    [Fact]
    public void an_unknown_value_and_an_unhealed_partition_are_reported()
    {
        var history = Clean();
        WithLog(history, 0, [.. history.FinalLogs[0], (4, "stray")]);
        history.Unhealed.Add("partition 0: ISR [1,2]");
        var report = HistoryChecker.Check(history);
        Assert.Contains(report.Violations, v => v.Kind == ViolationKind.UnknownValue);
        Assert.Contains(report.Violations, v => v.Kind == ViolationKind.IsrNotRestored);
    }

    [Fact]
    public void values_parse_back_to_their_writer_and_sequence()
    {
        Assert.Equal((12, 345L), BrokerHistory.ParseValue(BrokerHistory.ValueOf(12, 345)));
        Assert.Null(BrokerHistory.ParseValue("stray"));
        Assert.Null(BrokerHistory.ParseValue("w-1"));
    }
}
