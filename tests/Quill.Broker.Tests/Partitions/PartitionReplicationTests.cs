using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Log;
using Quill.Broker.Partitions;
using Quill.Broker.Tests.Log;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Tests.Partitions;

/// <summary>The leader's bookkeeping: the high watermark over the ISR, acks=all, ISR shrink and expansion.</summary>
public sealed class PartitionReplicationTests : IDisposable
{
    private const long LagMs = 3000;
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = FakeClocks.New();
    private readonly PartitionLog _log;
    private readonly Partition _partition;
    private readonly List<Partition> _isrRequests = [];

    public PartitionReplicationTests()
    {
        _log = PartitionLog.Open(_dir.Partition(), "t", 0, LogConfig.Default, _clock, hadCleanShutdown: true);
        _log.UseReplicatedHighWatermark(0);
        _partition = new Partition("t", 0, Guid.NewGuid(), _log, 0) { IsrChangeWanted = _isrRequests.Add };
        _partition.MakeLeader(1, 0, [1, 2, 3], [1, 2, 3], stateZkVersion: 0, nowMs: 1000);
    }

    public void Dispose()
    {
        _log.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task the_high_watermark_is_the_smallest_log_end_in_the_isr_and_completes_acks_all_when_it_covers_the_batch()
    {
        _partition.Append(Batches.Values("a", "b"));
        Assert.Equal(0, _partition.HighWatermark); // the followers have not fetched yet
        var replicated = _partition.WaitForHighWatermarkAsync(2, 2, TimeSpan.FromMinutes(1), TimeProvider.System, CancellationToken.None);

        _partition.RecordFollowerFetch(2, 2, 1100);
        Assert.Equal(0, _partition.HighWatermark); // broker 3 holds it
        _partition.RecordFollowerFetch(3, 1, 1100);
        Assert.Equal(1, _partition.HighWatermark);
        Assert.False(replicated.IsCompleted);
        _partition.RecordFollowerFetch(3, 2, 1200);
        Assert.Equal(2, _partition.HighWatermark);
        Assert.Equal(KafkaError.None, await replicated);
        Assert.Equal(2, _log.LastStableOffset);
    }

    [Fact]
    public async Task acks_all_times_out_without_the_followers_and_fails_when_leadership_moves()
    {
        _partition.Append(Batches.Values("a"));
        Assert.Equal(KafkaError.RequestTimedOut,
            await _partition.WaitForHighWatermarkAsync(1, 2, TimeSpan.FromMilliseconds(50), TimeProvider.System, CancellationToken.None));
        var waiting = _partition.WaitForHighWatermarkAsync(1, 2, TimeSpan.FromMinutes(1), TimeProvider.System, CancellationToken.None);
        _partition.MakeFollower(1, 2, 1, [1, 2, 3], [2, 3], 1);
        Assert.Equal(KafkaError.NotLeaderOrFollower, await waiting);
    }

    [Fact]
    public void a_follower_behind_for_the_lag_time_leaves_the_isr_and_rejoins_once_it_reaches_the_high_watermark()
    {
        _partition.Append(Batches.Values("a", "b"));
        _partition.RecordFollowerFetch(2, 2, 1100);
        _partition.RecordFollowerFetch(3, 2, 1100);
        Assert.Null(_partition.ProposeIsr(1100 + LagMs, LagMs));

        _partition.Append(Batches.Values("c"));
        _partition.RecordFollowerFetch(2, 3, 5000); // broker 3 stops fetching
        Assert.Equal([1, 2], _partition.ProposeIsr(5000, LagMs)!);
        Assert.Null(_partition.ProposeIsr(5000, LagMs)); // one change in flight at a time
        _partition.IsrChangeDone(0, [1, 2], 1);
        Assert.Equal([1, 2], _partition.Isr);
        Assert.Equal(3, _partition.HighWatermark); // broker 3 no longer holds it back
        Assert.Equal(KafkaError.NotEnoughReplicas, _partition.CheckEnoughReplicas(3));
        Assert.Equal(KafkaError.None, _partition.CheckEnoughReplicas(2));

        _partition.RecordFollowerFetch(3, 2, 5100);
        Assert.Empty(_isrRequests);                 // still below the high watermark
        _partition.RecordFollowerFetch(3, 3, 5200);
        Assert.Equal([_partition], _isrRequests);
        Assert.Equal([1, 2, 3], _partition.ProposeIsr(5200, LagMs)!);
    }

    [Fact]
    public async Task waiting_fetches_are_woken_by_an_append_and_leave_nothing_behind_when_they_stop_waiting()
    {
        // Long polls that time out on an idle partition take their waiter out again: nothing piles up for the next append.
        for (int i = 0; i < 1000; i++)
        {
            var timedOut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _partition.AddAppendWaiter(timedOut);
            _partition.RemoveAppendWaiter(timedOut);
        }
        Assert.Equal(0, _partition.WaitingFetches);

        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _partition.AddAppendWaiter(first);
        _partition.AddAppendWaiter(second);
        Assert.Equal(2, _partition.WaitingFetches);
        _partition.Append(Batches.Values("a"));
        await Task.WhenAll(first.Task, second.Task).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, _partition.WaitingFetches);

        var later = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _partition.AddAppendWaiter(later);
        Assert.False(later.Task.IsCompleted); // only appends after it joined wake it
        _partition.Append(Batches.Values("b"));
        await later.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
