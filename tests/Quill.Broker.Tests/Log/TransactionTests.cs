using Microsoft.Extensions.Time.Testing;
using System.Buffers.Binary;
using System.Text;
using Quill.Broker.Log;
using Quill.Broker.Partitions;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Log;

/// <summary>Transactions on the log (KIP-98): ongoing transactions, the last stable offset, markers, the aborted index.</summary>
public sealed class TransactionTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = FakeClocks.New();
    private static readonly LogConfig Config = new() { SegmentBytes = 100_000 };

    public void Dispose() => _dir.Dispose();

    private PartitionLog Open(LogConfig? config = null, bool clean = true) =>
        PartitionLog.Open(_dir.Partition(), "t", 0, config ?? Config, _clock, hadCleanShutdown: clean);

    internal static byte[] Txn(long producerId, short epoch, int baseSequence, params string[] values)
    {
        var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = baseSequence, IsTransactional = true };
        foreach (var v in values) builder.Add(1000, Encoding.UTF8.GetBytes(v), Encoding.UTF8.GetBytes(v));
        return builder.Build();
    }

    [Fact]
    public void An_ongoing_transaction_holds_the_last_stable_offset_at_its_first_offset_until_its_marker()
    {
        using var log = Open();
        log.Append(Batches.Values("a", "b"));
        Assert.Equal(2, log.LastStableOffset);

        Assert.Equal(2, log.Append(Txn(1, 0, 0, "t1-0", "t1-1")).FirstOffset);
        Assert.Equal(2, log.LastStableOffset);
        Assert.Equal(2, log.ProducerState.Get(1)!.CurrentTxnFirstOffset);
        log.Append(Batches.Values("c"));                 // 4
        log.Append(Txn(1, 0, 2, "t1-2"));                // 5: same transaction, the start stays
        log.Append(Txn(2, 0, 0, "t2-0"));                // 6: a second producer's transaction
        Assert.Equal(2, log.LastStableOffset);
        Assert.Equal(7, log.LogEndOffset);

        // read_committed reads stop there: a read bounded by the LSO returns only offsets below it.
        var below = Batches.Records(log.Read(0, 1 << 20, log.LastStableOffset).Records.ToArray());
        Assert.Equal([0L, 1L], below.Select(r => r.Offset));

        Assert.Equal(7, log.AppendControlMarker(1, 0, commit: true, coordinatorEpoch: 5));
        Assert.Equal(6, log.LastStableOffset);
        Assert.Equal(-1, log.ProducerState.Get(1)!.CurrentTxnFirstOffset);
        Assert.Equal(8, log.AppendControlMarker(2, 0, commit: true, coordinatorEpoch: 5));
        Assert.Equal(9, log.LastStableOffset);
        Assert.Equal(log.LogEndOffset, log.LastStableOffset);
        Assert.Empty(log.CollectAbortedTransactions(0, 9)); // commits are not indexed
    }

    [Fact]
    public void A_marker_is_a_control_batch_in_kafkas_end_transaction_marker_layout()
    {
        using var log = Open();
        log.Append(Txn(7, 3, 0, "x"));
        long offset = log.AppendControlMarker(7, 3, commit: false, coordinatorEpoch: 0x01020304, leaderEpoch: 9);

        var read = log.Read(offset, 1 << 20).Records.ToArray();
        var batch = Assert.Single(RecordBatch.ReadAll(read));
        Assert.True(batch.IsCrcValid);
        var header = BatchHeader.Parse(read);
        Assert.Equal(0x30, header.Attributes & 0x30); // transactional | control
        Assert.Equal((7L, (short)3, -1, 9), (header.ProducerId, header.ProducerEpoch, header.BaseSequence, header.PartitionLeaderEpoch));
        Assert.Equal(offset, header.BaseOffset);
        var record = Assert.Single(batch.ReadRecords());
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, record.Key!.Value.ToArray());            // version 0, type 0 = ABORT
        Assert.Equal(new byte[] { 0, 0, 1, 2, 3, 4 }, record.Value!.Value.ToArray());    // version 0, coordinator epoch
        Assert.Equal(new ControlMarker(false, 0x01020304), ControlMarker.Parse(read));

        long commit = log.AppendControlMarker(7, 3, commit: true, coordinatorEpoch: 0x01020304);
        var commitRecord = Assert.Single(RecordBatch.Read(log.Read(commit, 1 << 20).Records.ToArray()).ReadRecords());
        Assert.Equal(new byte[] { 0, 0, 0, 1 }, commitRecord.Key!.Value.ToArray());
    }

    [Fact]
    public void An_abort_is_recorded_in_the_segments_txnindex_in_kafkas_34_byte_layout()
    {
        using var log = Open();
        log.Append(Txn(1, 0, 0, "a", "b", "c"));           // 0-2
        log.Append(Txn(2, 0, 0, "d"));                     // 3
        log.Append(Batches.Values("plain"));               // 4
        Assert.Equal(5, log.AppendControlMarker(1, 0, commit: false, coordinatorEpoch: 1));
        Assert.Equal(3, log.LastStableOffset);              // producer 2 is still open

        Assert.Equal([(1L, 0L)], log.CollectAbortedTransactions(0, 6));
        byte[] file = File.ReadAllBytes(LogFileNames.TxnIndexFile(_dir.Partition(), 0));
        Assert.Equal(TransactionIndex.EntrySize, file.Length);
        Assert.Equal(0, BinaryPrimitives.ReadInt16BigEndian(file));
        Assert.Equal(1, BinaryPrimitives.ReadInt64BigEndian(file.AsSpan(2)));   // producer id
        Assert.Equal(0, BinaryPrimitives.ReadInt64BigEndian(file.AsSpan(10)));  // first offset
        Assert.Equal(5, BinaryPrimitives.ReadInt64BigEndian(file.AsSpan(18)));  // last offset: the marker
        Assert.Equal(3, BinaryPrimitives.ReadInt64BigEndian(file.AsSpan(26)));  // LSO after it: producer 2's start

        log.AppendControlMarker(2, 0, commit: true, coordinatorEpoch: 1);
        Assert.Equal(TransactionIndex.EntrySize, new FileInfo(LogFileNames.TxnIndexFile(_dir.Partition(), 0)).Length);
    }

    [Fact]
    public void Aborted_transactions_are_found_by_range_across_segments()
    {
        using var log = Open();
        log.Append(Txn(1, 0, 0, "a", "b"));                // 0-1
        log.AppendControlMarker(1, 0, false, 0);           // 2
        log.Roll();
        log.Append(Txn(2, 0, 0, "c"));                     // 3
        log.Append(Txn(3, 0, 0, "d"));                     // 4
        log.Roll();
        log.Append(Batches.Values("e"));                   // 5
        log.AppendControlMarker(2, 0, false, 0);           // 6: producer 2's abort, in the third segment
        log.Append(Txn(3, 0, 1, "f"));                     // 7
        log.AppendControlMarker(3, 0, true, 0);            // 8: producer 3 commits
        log.Append(Txn(4, 0, 0, "g"));                     // 9
        log.AppendControlMarker(4, 0, false, 0);           // 10
        Assert.Equal(3, log.Segments.Count);
        Assert.Equal(11, log.LastStableOffset);

        Assert.Equal([(1L, 0L), (2L, 3L), (4L, 9L)], log.CollectAbortedTransactions(0, 11));
        Assert.Equal([(1L, 0L)], log.CollectAbortedTransactions(0, 3));          // the bound is exclusive
        Assert.Equal([(1L, 0L), (2L, 3L)], log.CollectAbortedTransactions(2, 4)); // the marker offset counts
        Assert.Equal([(2L, 3L)], log.CollectAbortedTransactions(3, 9));
        Assert.Equal([(2L, 3L)], log.CollectAbortedTransactions(5, 6));           // inside the range, marker in a later segment
        Assert.Equal([(4L, 9L)], log.CollectAbortedTransactions(7, 100));
        Assert.Empty(log.CollectAbortedTransactions(11, 12));
        Assert.Empty(log.CollectAbortedTransactions(4, 4));
    }

    [Fact]
    public void A_marker_with_an_older_epoch_is_fenced_and_writes_nothing()
    {
        using var log = Open();
        log.Append(Txn(9, 3, 0, "a"));
        var e = Assert.Throws<LogException>(() => log.AppendControlMarker(9, 2, commit: true, coordinatorEpoch: 0));
        Assert.Equal(KafkaError.InvalidProducerEpoch, e.Error);
        Assert.Equal(1, log.LogEndOffset);
        Assert.Equal(0, log.LastStableOffset);

        // The coordinator fences the producer: an abort with a bumped epoch, which becomes the producer's epoch.
        Assert.Equal(1, log.AppendControlMarker(9, 4, commit: false, coordinatorEpoch: 0));
        Assert.Equal(2, log.LastStableOffset);
        Assert.Equal(KafkaError.InvalidProducerEpoch, Assert.Throws<LogException>(() => log.Append(Txn(9, 3, 1, "zombie"))).Error);
        Assert.Equal(KafkaError.OutOfOrderSequenceNumber, Assert.Throws<LogException>(() => log.Append(Txn(9, 4, 1, "b"))).Error);
        Assert.Equal(2, log.Append(Txn(9, 4, 0, "b")).FirstOffset);

        // A marker from an older coordinator is fenced too.
        log.AppendControlMarker(9, 4, commit: true, coordinatorEpoch: 7);
        Assert.Equal(KafkaError.TransactionCoordinatorFenced,
            Assert.Throws<LogException>(() => log.AppendControlMarker(9, 4, commit: true, coordinatorEpoch: 6)).Error);
    }

    [Fact]
    public void A_marker_for_a_producer_without_an_ongoing_transaction_is_written_and_completes_nothing()
    {
        using var log = Open();
        log.Append(Txn(1, 0, 0, "a"));
        Assert.Equal(1, log.AppendControlMarker(42, 0, commit: false, coordinatorEpoch: 0));
        Assert.Equal(2, log.LogEndOffset);
        Assert.Equal(0, log.LastStableOffset); // producer 1's transaction is untouched
        Assert.Empty(log.CollectAbortedTransactions(0, 2));
        Assert.Equal(2, log.AppendControlMarker(1, 0, commit: false, coordinatorEpoch: 0));
        Assert.Equal(3, log.AppendControlMarker(1, 0, commit: false, coordinatorEpoch: 0)); // a retried marker: nothing more to end
        Assert.Equal([(1L, 0L)], log.CollectAbortedTransactions(0, 4));
        Assert.Equal(4, log.LastStableOffset);
    }

    [Fact]
    public void A_non_transactional_batch_during_a_transaction_is_invalid_txn_state()
    {
        using var log = Open();
        log.Append(Txn(5, 0, 0, "a", "b"));
        var e = Assert.Throws<LogException>(() => log.Append(Batches.Idempotent(5, 0, 2, 1)));
        Assert.Equal(KafkaError.InvalidTxnState, e.Error);
        Assert.Equal(2, log.LogEndOffset);
        Assert.Equal(0, log.LastStableOffset);

        log.AppendControlMarker(5, 0, commit: true, coordinatorEpoch: 0);
        Assert.Equal(3, log.Append(Batches.Idempotent(5, 0, 2, 1)).FirstOffset); // allowed once it ended
        Assert.Equal(4, log.LastStableOffset);
    }

    [Fact]
    public void A_transactional_batch_without_a_producer_id_is_invalid()
    {
        using var log = Open();
        var batch = new RecordBatchBuilder { IsTransactional = true }.Add(1000, null, new byte[] { 1 }).Build();
        Assert.Equal(KafkaError.InvalidRecord, Assert.Throws<LogException>(() => log.Append(batch)).Error);
        Assert.Equal(0, log.LogEndOffset);
    }

    [Fact]
    public void A_retried_transactional_batch_is_a_duplicate_and_does_not_move_the_transaction_start()
    {
        using var log = Open();
        log.Append(Batches.Values("x"));
        log.Append(Txn(3, 0, 0, "a"));
        log.Append(Txn(3, 0, 1, "b"));
        Assert.True(log.Append(Txn(3, 0, 0, "a")).IsDuplicate);
        Assert.Equal(1, log.LastStableOffset);
        Assert.Equal(3, log.LogEndOffset);
    }

    [Fact]
    public void An_ongoing_transaction_survives_a_clean_restart_through_the_snapshot()
    {
        using (var log = Open())
        {
            log.Append(Batches.Values("a"));
            log.Append(Txn(1, 2, 0, "b", "c"));
            log.AppendControlMarker(1, 2, commit: true, coordinatorEpoch: 3);
            log.Append(Txn(1, 2, 2, "d"));                 // 4: a second transaction, still open
        }
        var snapshot = ProducerStateSnapshot.TryRead(LogFileNames.SnapshotFile(_dir.Partition(), 5));
        var entry = Assert.Single(snapshot!);
        Assert.Equal((1L, (short)2, 4L, 3), (entry.ProducerId, entry.Epoch, entry.CurrentTxnFirstOffset, entry.CoordinatorEpoch));

        using var reopened = Open();
        Assert.Equal(4, reopened.LastStableOffset);
        Assert.Equal(KafkaError.InvalidTxnState, Assert.Throws<LogException>(() => reopened.Append(Batches.Idempotent(1, 2, 3, 1))).Error);
        Assert.Equal(KafkaError.TransactionCoordinatorFenced, Assert.Throws<LogException>(() => reopened.AppendControlMarker(1, 2, false, 2)).Error);
        reopened.AppendControlMarker(1, 2, commit: false, coordinatorEpoch: 3);
        Assert.Equal(6, reopened.LastStableOffset);
        Assert.Equal([(1L, 4L)], reopened.CollectAbortedTransactions(0, 6));
    }

    [Fact]
    public void A_version_1_snapshot_from_before_transactions_still_loads()
    {
        using (var log = Open()) log.Append(Batches.Idempotent(8, 1, 0, 3));
        string path = LogFileNames.SnapshotFile(_dir.Partition(), 3);
        // Rewrite it in the old layout: no coordinator epoch or transaction start.
        var body = new List<byte>();
        void Int(long v, int bytes) { for (int i = bytes - 1; i >= 0; i--) body.Add((byte)(v >> (8 * i))); }
        Int(1, 4); Int(8, 8); Int(1, 2); Int(1000, 8); Int(1, 4);
        Int(0, 4); Int(2, 4); Int(0, 8); Int(2, 8); Int(1000, 8);
        var bytes = new byte[6 + body.Count];
        BinaryPrimitives.WriteInt16BigEndian(bytes, 1);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(2), Crc32C.Compute(body.ToArray()));
        body.CopyTo(bytes, 6);
        File.WriteAllBytes(path, bytes);

        var entry = Assert.Single(ProducerStateSnapshot.TryRead(path)!);
        Assert.Equal((8L, (short)1, -1L, -1, 2), (entry.ProducerId, entry.Epoch, entry.CurrentTxnFirstOffset, entry.CoordinatorEpoch, entry.LastSeq));
        using var reopened = Open();
        Assert.True(reopened.Append(Batches.Idempotent(8, 1, 0, 3)).IsDuplicate); // the batch came from the old snapshot
        Assert.Equal(3, reopened.LastStableOffset);
    }

    /// <summary>
    /// Two segments: an aborted transaction begun in the first and ended in the second, a committed one, and one
    /// still open at the crash. Leaves the log as kill -9 would.
    /// </summary>
    private void WriteTransactionsAndCrash()
    {
        var log = Open();
        log.Append(Batches.Values("a"));                   // 0
        log.Append(Txn(1, 0, 0, "p1-a", "p1-b"));          // 1-2
        log.Roll();                                        // snapshot at 3: producer 1 open since 1
        log.Append(Txn(2, 0, 0, "p2-a"));                  // 3
        log.AppendControlMarker(1, 0, false, 0);           // 4: abort [1, 4]
        log.AppendControlMarker(2, 0, true, 0);            // 5: commit
        log.Append(Txn(3, 0, 0, "p3-a"));                  // 6: open at the crash
        log.Append(Batches.Values("b"));                   // 7
        Assert.Equal(6, log.LastStableOffset);
        log.CloseAbruptly();
    }

    private void AssertRecoveredTransactions(PartitionLog log)
    {
        Assert.Equal(8, log.LogEndOffset);
        Assert.Equal(6, log.LastStableOffset);
        Assert.Equal([(1L, 1L)], log.CollectAbortedTransactions(0, 8));
        Assert.Equal([(1L, 1L)], log.CollectAbortedTransactions(4, 5));
        Assert.Equal(8, log.AppendControlMarker(3, 0, false, 0));
        Assert.Equal([(1L, 1L), (3L, 6L)], log.CollectAbortedTransactions(0, 9));
        Assert.Equal(9, log.LastStableOffset);
    }

    [Fact]
    public void After_a_crash_recovery_rebuilds_the_ongoing_transactions_and_the_aborted_index()
    {
        WriteTransactionsAndCrash();
        foreach (var f in Directory.GetFiles(_dir.Partition(), "*.snapshot")) File.Delete(f);
        foreach (var f in Directory.GetFiles(_dir.Partition(), "*.txnindex")) File.Delete(f);

        using var log = Open(clean: false);
        AssertRecoveredTransactions(log);
    }

    [Fact]
    public void A_lost_txnindex_is_rebuilt_on_the_next_start_from_the_snapshot_before_it()
    {
        WriteTransactionsAndCrash();
        var bases = Directory.GetFiles(_dir.Partition(), "*.log").Order().ToList();
        Assert.Equal(2, bases.Count);
        Assert.True(File.Exists(LogFileNames.SnapshotFile(_dir.Partition(), 3)));
        File.Delete(LogFileNames.TxnIndexFile(_dir.Partition(), 3));

        // A clean start scans nothing: only the missing index sends the loader back to the snapshot at 3.
        using var log = Open(clean: true);
        AssertRecoveredTransactions(log);
        byte[] rebuilt = File.ReadAllBytes(LogFileNames.TxnIndexFile(_dir.Partition(), 3));
        Assert.Equal(TransactionIndex.EntrySize, rebuilt.Length); // producer 1's abort, begun in the segment before
        Assert.Equal(1, BinaryPrimitives.ReadInt64BigEndian(rebuilt.AsSpan(10)));
    }

    [Fact]
    public void A_torn_marker_is_cut_off_and_its_transaction_is_ongoing_again()
    {
        var log = Open();
        log.Append(Txn(1, 0, 0, "a", "b"));
        log.Append(Batches.Values("c"));
        log.AppendControlMarker(1, 0, false, 0);           // 3
        Assert.Equal([(1L, 0L)], log.CollectAbortedTransactions(0, 4));
        log.CloseAbruptly();
        string file = LogFileNames.LogFile(_dir.Partition(), 0);
        using (var f = new FileStream(file, FileMode.Open)) f.SetLength(f.Length - 5);

        using var reopened = Open(clean: false);
        Assert.Equal(3, reopened.LogEndOffset);
        Assert.Equal(0, reopened.LastStableOffset);
        Assert.Empty(reopened.CollectAbortedTransactions(0, 4));
        Assert.Equal(0, new FileInfo(LogFileNames.TxnIndexFile(_dir.Partition(), 0)).Length);
        Assert.Equal(3, reopened.AppendControlMarker(1, 0, true, 0));
        Assert.Equal(4, reopened.LastStableOffset);
    }

    [Fact]
    public void Retention_and_delete_records_remove_a_segments_txnindex_with_it()
    {
        using var log = Open(new LogConfig { SegmentBytes = 100_000, RetentionMs = 60_000 });
        log.Append(Txn(1, 0, 0, "a"));
        log.AppendControlMarker(1, 0, false, 0);
        log.Roll();
        log.Append(Txn(2, 0, 0, "b"));
        log.AppendControlMarker(2, 0, false, 0);
        log.Roll();
        log.Append(Batches.Make(CompressionType.None, _clock.NowMs + 120_000, "new"));
        string first = LogFileNames.TxnIndexFile(_dir.Partition(), 0), second = LogFileNames.TxnIndexFile(_dir.Partition(), 2);
        Assert.True(File.Exists(first) && File.Exists(second));

        Assert.Equal(2, log.DeleteRecordsBefore(2));
        Assert.Equal(2, log.Segments[0].BaseOffset);
        Assert.False(File.Exists(first));
        Assert.True(File.Exists(second));
        Assert.Equal([(2L, 2L)], log.CollectAbortedTransactions(0, 5));

        _clock.Advance(61_000); // the second segment's newest timestamp (its marker's, written "now") is 61 s old; the third's is not
        Assert.Equal(1, log.DeleteOldSegments());
        Assert.False(File.Exists(second));
        Assert.Empty(log.CollectAbortedTransactions(0, 5));
        Assert.Equal(5, log.LastStableOffset);
    }

    [Fact]
    public void Deleting_a_transactions_data_drops_it_and_the_stable_offset_moves_on()
    {
        using var log = Open();
        log.Append(Txn(1, 0, 0, "a"));
        log.Roll();
        log.Append(Batches.Values("b"));
        Assert.Equal(0, log.LastStableOffset);
        log.DeleteRecordsBefore(1); // producer 1's only batch is gone, as in Kafka its transaction is forgotten
        Assert.Equal(2, log.LastStableOffset);
    }

    [Fact]
    public void Producers_with_an_ongoing_transaction_do_not_expire()
    {
        using var log = Open(new LogConfig { ProducerIdExpirationMs = 1000 });
        log.Append(Txn(1, 0, 0, "a"));
        log.Append(Batches.Idempotent(2, 0, 0, 1));
        _clock.Advance(10_000);
        log.RemoveExpiredProducers();
        Assert.NotNull(log.ProducerState.Get(1));
        Assert.Null(log.ProducerState.Get(2));
        Assert.Equal(0, log.LastStableOffset);
    }

    [Fact]
    public async Task A_marker_wakes_fetches_waiting_on_the_partition()
    {
        using var log = Open();
        var partition = new Partition("t", 0, Guid.NewGuid(), log, leaderEpoch: 4);
        log.Append(Txn(1, 0, 0, "a"));
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        partition.AddAppendWaiter(waiting);
        Assert.False(waiting.Task.IsCompleted);
        log.AppendControlMarker(1, 0, true, 0); // straight on the log, as a coordinator may call it
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(5));

        var again = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        partition.AddAppendWaiter(again);
        long offset = partition.AppendControlMarker(1, 0, commit: true, coordinatorEpoch: 0);
        await again.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(4, BatchHeader.Parse(log.Read(offset, 1000).Records.ToArray()).PartitionLeaderEpoch);
    }

    [Fact]
    public void Compaction_keeps_markers_and_aborted_batches_and_never_lets_aborted_records_shadow_committed_ones()
    {
        var config = new LogConfig { SegmentBytes = 100_000, CleanupPolicy = CleanupPolicy.Compact };
        using var log = Open(config);
        log.Append(Batches.Keyed(1000, ("k", "old")));               // 0
        log.Append(Txn(1, 0, 0, "k"));                               // 1: committed "k"
        log.AppendControlMarker(1, 0, true, 0);                      // 2
        log.Append(Txn(2, 0, 0, "k"));                               // 3: aborted "k"
        log.AppendControlMarker(2, 0, false, 0);                     // 4
        log.Roll();
        log.Append(Txn(3, 0, 0, "j"));                               // 5: open transaction
        log.Roll();
        log.Append(Batches.Keyed(1000, ("j", "plain")));             // 6: j again, but above the LSO
        log.Roll();

        LogCleaner.Clean(log, _clock);

        var offsets = Batches.ReadAll(log).Select(r => r.Offset).ToList();
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], offsets); // "old" is gone; the committed k, the aborted k and both markers stay
        Assert.Equal([(2L, 3L)], log.CollectAbortedTransactions(0, 7));
        Assert.Equal(5, log.LastStableOffset);
        Assert.True(File.Exists(LogFileNames.TxnIndexFile(_dir.Partition(), 0)));
        Assert.Equal(TransactionIndex.EntrySize, new FileInfo(LogFileNames.TxnIndexFile(_dir.Partition(), 0)).Length);
    }
}
