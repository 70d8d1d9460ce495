using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Log;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Tests.Log;

public sealed class ProducerStateTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = FakeClocks.New();
    private static readonly LogConfig Config = new() { SegmentBytes = 1000 };

    public void Dispose() => _dir.Dispose();

    private PartitionLog Open(bool clean = true) => PartitionLog.Open(_dir.Partition(), "t", 0, Config, _clock, hadCleanShutdown: clean);

    [Fact]
    public void A_retried_batch_is_answered_with_its_original_offsets_and_not_appended()
    {
        using var log = Open();
        log.Append(Batches.Values("other"));
        var first = log.Append(Batches.Idempotent(42, 0, 0, 3));
        log.Append(Batches.Idempotent(42, 0, 3, 2));
        long end = log.LogEndOffset;

        var retry = log.Append(Batches.Idempotent(42, 0, 0, 3));

        Assert.True(retry.IsDuplicate);
        Assert.Equal(first.FirstOffset, retry.FirstOffset);
        Assert.Equal(first.LastOffset, retry.LastOffset);
        Assert.Equal(end, log.LogEndOffset);
        Assert.Equal(6, Batches.ReadAll(log).Count);
    }

    [Fact]
    public void Only_the_last_five_batches_are_remembered()
    {
        using var log = Open();
        for (int i = 0; i < 6; i++) log.Append(Batches.Idempotent(1, 0, i, 1));
        Assert.True(log.Append(Batches.Idempotent(1, 0, 1, 1)).IsDuplicate);
        // The first batch fell out of the window: its retry is now just out of order.
        Assert.Equal(KafkaError.OutOfOrderSequenceNumber, Assert.Throws<LogException>(() => log.Append(Batches.Idempotent(1, 0, 0, 1))).Error);
    }

    [Fact]
    public void A_sequence_gap_is_out_of_order_and_appends_nothing()
    {
        using var log = Open();
        log.Append(Batches.Idempotent(7, 0, 0, 2));
        var e = Assert.Throws<LogException>(() => log.Append(Batches.Idempotent(7, 0, 5, 1)));
        Assert.Equal(KafkaError.OutOfOrderSequenceNumber, e.Error);
        Assert.Equal(2, log.LogEndOffset);
        Assert.Equal(2, log.Append(Batches.Idempotent(7, 0, 2, 1)).FirstOffset);
    }

    [Fact]
    public void A_stale_epoch_is_rejected_and_a_new_epoch_must_start_at_zero()
    {
        using var log = Open();
        log.Append(Batches.Idempotent(9, 3, 0, 2));
        Assert.Equal(KafkaError.InvalidProducerEpoch, Assert.Throws<LogException>(() => log.Append(Batches.Idempotent(9, 2, 2, 1))).Error);
        Assert.Equal(KafkaError.OutOfOrderSequenceNumber, Assert.Throws<LogException>(() => log.Append(Batches.Idempotent(9, 4, 2, 1))).Error);
        Assert.Equal(2, log.LogEndOffset);

        Assert.Equal(2, log.Append(Batches.Idempotent(9, 4, 0, 1)).FirstOffset);
        Assert.Equal(KafkaError.InvalidProducerEpoch, Assert.Throws<LogException>(() => log.Append(Batches.Idempotent(9, 3, 2, 1))).Error);
        Assert.Equal(3, log.Append(Batches.Idempotent(9, 4, 1, 1)).FirstOffset);
    }

    [Fact]
    public void An_unknown_producer_is_accepted_at_any_sequence_as_modern_kafka_does()
    {
        using var log = Open();
        Assert.Equal(0, log.Append(Batches.Idempotent(11, 0, 17, 2)).FirstOffset);
        Assert.Equal(KafkaError.OutOfOrderSequenceNumber, Assert.Throws<LogException>(() => log.Append(Batches.Idempotent(11, 0, 20, 1))).Error);
        Assert.Equal(2, log.Append(Batches.Idempotent(11, 0, 19, 1)).FirstOffset);
    }

    [Fact]
    public void Several_batches_of_one_producer_in_one_append_are_checked_in_order()
    {
        using var log = Open();
        byte[] twoInOrder = [.. Batches.Idempotent(5, 0, 0, 2), .. Batches.Idempotent(5, 0, 2, 2)];
        Assert.Equal(0, log.Append(twoInOrder).FirstOffset);
        byte[] gapInside = [.. Batches.Idempotent(5, 0, 4, 1), .. Batches.Idempotent(5, 0, 9, 1)];
        Assert.Equal(KafkaError.OutOfOrderSequenceNumber, Assert.Throws<LogException>(() => log.Append(gapInside)).Error);
        Assert.Equal(4, log.LogEndOffset);
        Assert.Equal(4, log.Append(Batches.Idempotent(5, 0, 4, 1)).FirstOffset); // nothing of the failed append stuck
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void State_survives_a_restart(bool cleanShutdown)
    {
        var log = Open();
        for (int i = 0; i < 30; i++) log.Append(Batches.Idempotent(77, 2, i * 2, 2));
        log.Append(Batches.Idempotent(88, 0, 0, 1));
        Assert.True(log.Segments.Count > 2);
        if (cleanShutdown) log.Dispose(); else log.CloseAbruptly();
        Assert.NotEmpty(Directory.GetFiles(_dir.Partition(), "*.snapshot"));

        using var reopened = Open(cleanShutdown);

        var duplicate = reopened.Append(Batches.Idempotent(77, 2, 56, 2));
        Assert.True(duplicate.IsDuplicate);
        Assert.Equal(56, duplicate.FirstOffset);
        Assert.True(reopened.Append(Batches.Idempotent(88, 0, 0, 1)).IsDuplicate);
        Assert.Equal(KafkaError.OutOfOrderSequenceNumber, Assert.Throws<LogException>(() => reopened.Append(Batches.Idempotent(77, 2, 61, 1))).Error);
        Assert.Equal(KafkaError.InvalidProducerEpoch, Assert.Throws<LogException>(() => reopened.Append(Batches.Idempotent(77, 1, 0, 1))).Error);
        Assert.Equal(61, reopened.Append(Batches.Idempotent(77, 2, 60, 1)).FirstOffset);
    }

    [Fact]
    public void State_is_rebuilt_from_the_log_when_snapshots_are_lost()
    {
        using (var log = Open())
            for (int i = 0; i < 20; i++) log.Append(Batches.Idempotent(3, 0, i, 1));
        foreach (var f in Directory.GetFiles(_dir.Partition(), "*.snapshot")) File.Delete(f);
        using var reopened = Open(clean: false);
        Assert.True(reopened.Append(Batches.Idempotent(3, 0, 19, 1)).IsDuplicate);
        Assert.Equal(20, reopened.Append(Batches.Idempotent(3, 0, 20, 1)).FirstOffset);
    }

    [Fact]
    public void Producers_whose_batches_were_deleted_are_forgotten()
    {
        using var log = Open();
        log.Append(Batches.Idempotent(1, 0, 0, 1));
        for (int i = 0; i < 30; i++) log.Append(Batches.Values($"v{i}"));
        log.DeleteRecordsBefore(20);
        Assert.Null(log.ProducerState.Get(1));
        Assert.Equal(31, log.Append(Batches.Idempotent(1, 0, 5, 1)).FirstOffset); // unknown again: any sequence
    }
}
