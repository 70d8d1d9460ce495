using Quill.Streams.Api;
using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Tests;

/// <summary>Window assignment, window state through a checkpoint's JSON, and per-partition idleness (no broker needed).</summary>
public sealed class EventTimeTests
{
    [Fact]
    public void a_sliding_window_assigner_gives_a_record_every_window_that_covers_it_also_before_the_epoch()
    {
        var windows = SlidingEventTimeWindows.Of(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1));

        Assert.Equal([new TimeWindow(1000, 4000), new TimeWindow(0, 3000), new TimeWindow(-1000, 2000)], windows.AssignWindows(1500));
        Assert.Equal([new TimeWindow(-1000, 2000), new TimeWindow(-2000, 1000), new TimeWindow(-3000, 0)], windows.AssignWindows(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SlidingEventTimeWindows.Of(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));
        Assert.Equal([new TimeWindow(1500, 2500)], EventTimeSessionWindows.WithGap(TimeSpan.FromSeconds(1)).AssignWindows(1500));
    }

    [Fact]
    public void window_state_keyed_by_window_comes_back_from_a_snapshot_unchanged()
    {
        var store = new KeyedStateStore<string>();
        var windows = store.GetMapState<TimeWindow, Reduced<(string, long)>>("windows");
        store.CurrentKey = "a";
        windows.Put(new TimeWindow(0, 2400), new Reduced<(string, long)>(true, ("a", 11)));
        windows.Put(new TimeWindow(3000, 4000), default);

        var restored = new KeyedStateStore<string>();
        restored.Restore([store.Snapshot()], _ => true);
        var restoredWindows = restored.GetMapState<TimeWindow, Reduced<(string, long)>>("windows");
        restored.CurrentKey = "a";

        Assert.Equal(windows.Entries.OrderBy(e => e.Key.Start), restoredWindows.Entries.OrderBy(e => e.Key.Start));
    }

    [Fact]
    public void a_partition_without_records_for_the_idleness_stops_holding_back_the_watermark_and_counts_again_when_records_come()
    {
        var watermarks = new PartitionWatermarks<int>([0, 1], maxTimestamp => maxTimestamp - 1, idlenessMs: 1000, now: 0);

        Assert.False(watermarks.OnRecord(0, 5000, now: 100));
        Assert.Equal((null, null), watermarks.Update(now: 100)); // partition 1 has had no record, but not for long
        Assert.Equal((null, 4999), watermarks.Update(now: 1000)); // now it is idle: partition 0 alone sets event time
        Assert.Equal((WatermarkStatus.Idle, null), watermarks.Update(now: 1100)); // both idle: so is the task

        Assert.True(watermarks.OnRecord(1, 3000, now: 1200)); // active again, behind: the watermark does not go back
        Assert.Equal((null, null), watermarks.Update(now: 1200));
        Assert.False(watermarks.OnRecord(1, 6000, now: 1300));
        Assert.Equal((null, 5999), watermarks.Update(now: 1300));
        Assert.False(watermarks.OnRecord(0, 5500, now: 1400)); // partition 0 counts again and holds event time at 5499
        Assert.False(watermarks.OnRecord(1, 9000, now: 1400));
        Assert.Equal((null, null), watermarks.Update(now: 1400));
        Assert.Equal(WatermarkStatus.Active, watermarks.Status);
    }
}
