using Microsoft.Extensions.Time.Testing;
using Microsoft.Win32.SafeHandles;
using Quill.Broker.Log;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Tests.Log;

/// <summary>The log side of replication: a follower's append of its leader's batches, truncation, and epoch ends.</summary>
public sealed class FollowerLogTests : IDisposable
{
    private readonly TempDir _leaderDir = new(), _followerDir = new();
    private readonly FakeTimeProvider _clock = FakeClocks.New();
    private static readonly LogConfig Config = new() { SegmentBytes = 100_000 };

    public void Dispose()
    {
        _leaderDir.Dispose();
        _followerDir.Dispose();
    }

    private PartitionLog Open(TempDir dir) => PartitionLog.Open(dir.Partition(), "t", 0, Config, _clock, hadCleanShutdown: true);

    /// <summary>What a fetch from <paramref name="from"/> would return from <paramref name="log"/>, as bytes.</summary>
    private static byte[] Fetch(PartitionLog log, long from)
    {
        var records = log.Read(from, 1 << 20).Records;
        var bytes = new byte[records.Length];
        if (records.Length > 0) RandomAccess.Read((SafeFileHandle)records.Handle!, bytes, records.Position);
        return bytes;
    }

    [Fact]
    public void a_follower_holds_the_leaders_batches_byte_for_byte_and_its_producer_state_so_a_retry_after_failover_is_a_duplicate()
    {
        using var leader = Open(_leaderDir);
        using var follower = Open(_followerDir);
        leader.Append(Batches.Values("a", "b"), leaderEpoch: 3);
        var first = leader.Append(Batches.Idempotent(7, 0, 0, 2), leaderEpoch: 3);

        Assert.Equal(2, follower.AppendAsFollower(Fetch(leader, 0)));
        Assert.Equal(leader.LogEndOffset, follower.LogEndOffset);
        Assert.Equal(Fetch(leader, 0), Fetch(follower, 0));
        Assert.Equal(3, follower.LastLeaderEpoch());
        Assert.Equal(0, follower.AppendAsFollower(Fetch(leader, 2))); // already there: skipped

        // The follower leads now: the producer's retry of its last batch is recognised, not written twice.
        var retried = follower.Append(Batches.Idempotent(7, 0, 0, 2), leaderEpoch: 4);
        Assert.True(retried.IsDuplicate);
        Assert.Equal(first.FirstOffset, retried.FirstOffset);
        Assert.Equal(4, follower.LogEndOffset);
    }

    [Fact]
    public void a_follower_refuses_batches_that_leave_a_gap_after_its_log_end()
    {
        using var leader = Open(_leaderDir);
        using var follower = Open(_followerDir);
        leader.Append(Batches.Values("a", "b"));
        leader.Append(Batches.Values("c"));
        var error = Assert.Throws<LogException>(() => follower.AppendAsFollower(Fetch(leader, 2)));
        Assert.Equal(KafkaError.OffsetOutOfRange, error.Error);
        Assert.Equal(0, follower.LogEndOffset);
    }

    [Fact]
    public void truncation_cuts_the_tail_across_segments_and_rebuilds_producer_state_and_the_high_watermark()
    {
        using var log = Open(_leaderDir);
        log.Append(Batches.Values("a", "b"), leaderEpoch: 1);             // 0-1
        log.Append(Batches.Idempotent(5, 0, 0, 2), leaderEpoch: 1);       // 2-3
        log.Roll();
        log.Append(Batches.Idempotent(5, 0, 2, 1), leaderEpoch: 2);       // 4
        log.Roll();
        log.Append(Batches.Values("x"), leaderEpoch: 2);                  // 5
        log.UseReplicatedHighWatermark(6);

        Assert.True(log.TruncateTo(4));
        Assert.Equal(4, log.LogEndOffset);
        Assert.Equal(4, log.HighWatermark);
        Assert.Single(log.Segments); // the segment that started at the cut goes whole
        Assert.Equal(1, log.LastLeaderEpoch());
        Assert.Equal(1, log.ProducerState.Get(5)!.LastSeq);
        // The producer's batch at sequence 2 is gone, so it is accepted again (not a duplicate) at the new end.
        var again = log.Append(Batches.Idempotent(5, 0, 2, 1), leaderEpoch: 3);
        Assert.False(again.IsDuplicate);
        Assert.Equal(4, again.FirstOffset);
        Assert.False(log.TruncateTo(10));
    }

    [Fact]
    public void an_epoch_ends_where_the_first_batch_of_a_later_epoch_starts()
    {
        using var log = Open(_leaderDir);
        log.Append(Batches.Values("a", "b"), leaderEpoch: 0);  // 0-1
        log.Append(Batches.Values("c", "d"), leaderEpoch: 2);  // 2-3
        log.Append(Batches.Values("e"), leaderEpoch: 5);       // 4
        Assert.Equal((0, 2L), log.EndOffsetForEpoch(0));
        Assert.Equal((0, 2L), log.EndOffsetForEpoch(1));
        Assert.Equal((2, 4L), log.EndOffsetForEpoch(3));
        Assert.Equal((5, 5L), log.EndOffsetForEpoch(5));
        Assert.Equal(5, log.LastLeaderEpoch());
    }
}
