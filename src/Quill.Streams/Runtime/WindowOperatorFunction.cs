using Quill.Streams.Api;
using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>
/// Windows as a keyed function (Flink's WindowOperator with its default EventTimeTrigger): per key, the contents of each
/// open window (an accumulator, or the records: <see cref="IWindowContents{T,TAcc}"/>) and an event-time timer at each
/// window's last timestamp. When the watermark reaches it, the window fires: <paramref name="fire"/> emits its results
/// from the contents (one for a reduce or an aggregate, any number for a whole-window function), stamped with that
/// time. A window is kept until the watermark
/// passes its end plus the allowed lateness (a cleanup timer); a record for a window that has fired but is within the
/// lateness updates it and fires it again at once, with the updated result. A record no window takes any more is late:
/// sent to the late-data side output if there is one, else dropped. Session windows merge: a record's window takes in
/// every window of its key it intersects, their contents merged.
/// <para>
/// Processing-time windows (<see cref="WindowAssigner.IsEventTime"/> false; Flink's ProcessingTimeTrigger) are the same
/// with the task's clock in place of the record's timestamp and processing-time timers in place of event-time ones: no
/// record is late for them, and the allowed lateness does not apply.
/// </para>
/// <para>
/// Timers are never deleted (two windows of a key can share a time, as one's end and another's cleanup): a timer finds
/// its work in the state, and one whose window merged away finds none.
/// </para>
/// </summary>
internal sealed class WindowOperatorFunction<TKey, T, TAcc, TOut>(
    WindowAssigner assigner,
    long allowedLateness,
    OutputTag<T>? lateData,
    IWindowContents<T, TAcc> contents,
    Action<TimeWindow, TAcc, KeyedContext<TKey, TOut>> fire) : KeyedProcessFunction<TKey, T, TOut> where TKey : notnull
{
    public long DroppedLateRecords { get; private set; }

    public override void Open(IKeyedStateProvider state) => contents.Open(state);

    /// <summary>
    /// When the window's state goes: the watermark has passed its end and the lateness (saturating). A processing-time
    /// window goes when it fires (as Flink's, it has no lateness).
    /// </summary>
    private long CleanupTime(TimeWindow window) =>
        !assigner.IsEventTime ? window.MaxTimestamp
        : window.MaxTimestamp > long.MaxValue - allowedLateness ? long.MaxValue : window.MaxTimestamp + allowedLateness;

    /// <summary>Only event-time windows are ever late: a processing-time window is assigned from the clock, so it is still open.</summary>
    private bool IsLate(TimeWindow window, long watermark) => assigner.IsEventTime && CleanupTime(window) <= watermark;

    public override void ProcessElement(T value, KeyedContext<TKey, TOut> context)
    {
        long watermark = context.Timers.CurrentWatermark;
        long time = assigner.IsEventTime ? context.Timestamp : context.Timers.CurrentProcessingTime;
        bool taken = false;
        if (assigner.IsMerging) taken = AddToSession(value, assigner.AssignWindows(time)[0], watermark, context);
        else
        {
            foreach (var window in assigner.AssignWindows(time))
            {
                if (IsLate(window, watermark)) continue;
                taken = true;
                contents.Add(window, value);
                FireOrWait(window, watermark, context);
            }
        }
        if (taken) return;
        if (lateData is not null) context.Output(lateData, value);
        else DroppedLateRecords++;
    }

    /// <summary>The record's window merged with every window of the key it intersects (they do not intersect each other).</summary>
    private bool AddToSession(T value, TimeWindow window, long watermark, KeyedContext<TKey, TOut> context)
    {
        var merged = window;
        var mergees = new List<TimeWindow>();
        foreach (var existing in contents.Windows)
        {
            if (!existing.Intersects(window)) continue;
            merged = merged.Cover(existing);
            mergees.Add(existing);
        }
        if (IsLate(merged, watermark)) return false;
        if (mergees.Count > 0) contents.Merge([.. mergees.OrderBy(w => w.Start)], merged);
        contents.Add(merged, value);
        FireOrWait(merged, watermark, context);
        return true;
    }

    /// <summary>
    /// A window that got a record: if the watermark is already past its end (a late record within the lateness), its
    /// result is emitted again now; else its timer waits for the watermark. Either way its state waits for the cleanup.
    /// </summary>
    private void FireOrWait(TimeWindow window, long watermark, KeyedContext<TKey, TOut> context)
    {
        if (!assigner.IsEventTime)
        {
            // Flink's ProcessingTimeTrigger: the task's clock reaching the window's last millisecond fires it, once.
            context.Timers.RegisterProcessingTimeTimer(window.MaxTimestamp);
            return;
        }
        if (window.MaxTimestamp <= watermark) fire(window, contents.Get(window), context);
        else context.Timers.RegisterEventTimeTimer(window.MaxTimestamp);
        if (allowedLateness > 0) context.Timers.RegisterEventTimeTimer(CleanupTime(window));
    }

    public override void OnTimer(long time, KeyedContext<TKey, TOut> context)
    {
        foreach (var window in contents.Windows.OrderBy(w => w.Start).ToList())
        {
            if (window.MaxTimestamp == time) fire(window, contents.Get(window), context);
            if (CleanupTime(window) <= time) contents.Remove(window);
        }
    }
}
