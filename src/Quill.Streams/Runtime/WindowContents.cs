using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>
/// What a window operator (<see cref="WindowOperatorFunction{TKey,T,TAcc,TOut}"/>) keeps of each open window of the
/// current key, in keyed state (so in the checkpoints), and what a firing gets of it (<typeparamref name="TAcc"/>).
/// </summary>
internal interface IWindowContents<T, TAcc>
{
    void Open(IKeyedStateProvider state);

    /// <summary>The current key's open windows (a live view: copy it before changing them).</summary>
    IEnumerable<TimeWindow> Windows { get; }

    void Add(TimeWindow window, T value);

    /// <summary>
    /// Session windows: <paramref name="mergees"/> (at least one, in the order of their starts) become
    /// <paramref name="merged"/>, whose contents are theirs in that order.
    /// </summary>
    void Merge(IReadOnlyList<TimeWindow> mergees, TimeWindow merged);

    /// <summary>What the window's firing gets.</summary>
    TAcc Get(TimeWindow window);

    void Remove(TimeWindow window);
}

/// <summary>An accumulator per window, each record added into it (Flink's reduce and aggregate): map state "windows".</summary>
internal sealed class WindowAccumulators<T, TAcc>(Func<TAcc> createAccumulator, Func<TAcc, T, TAcc> add, Func<TAcc, TAcc, TAcc>? merge)
    : IWindowContents<T, TAcc>
{
    private IMapState<TimeWindow, TAcc> _windows = null!;

    public void Open(IKeyedStateProvider state) => _windows = state.GetMapState<TimeWindow, TAcc>("windows");

    public IEnumerable<TimeWindow> Windows => _windows.Entries.Keys;

    public void Add(TimeWindow window, T value) =>
        _windows.Put(window, add(_windows.TryGetValue(window, out var current) ? current : createAccumulator(), value));

    public void Merge(IReadOnlyList<TimeWindow> mergees, TimeWindow merged)
    {
        TAcc accumulator = default!;
        for (int i = 0; i < mergees.Count; i++)
        {
            _windows.TryGetValue(mergees[i], out var other);
            _windows.Remove(mergees[i]);
            accumulator = i == 0 ? other : merge!(accumulator, other);
        }
        _windows.Put(merged, accumulator);
    }

    public TAcc Get(TimeWindow window) => _windows.TryGetValue(window, out var accumulator) ? accumulator : createAccumulator();

    public void Remove(TimeWindow window) => _windows.Remove(window);
}

/// <summary>
/// Every record of each window, for a whole-window function: map state "windows" gives a window its record count and
/// the slot its records are under (the window itself, or for a merged session the slot of its earliest part), and map
/// state "records" holds each record under (slot, index). Adding a record writes one entry and the count, on the heap as
/// on disk (nothing is read back but the count); a firing reads the window's records by index, in the order they came.
/// A merge keeps the earliest part's slot and moves the later parts' records after its own.
/// </summary>
internal sealed class WindowRecordLists<T> : IWindowContents<T, IReadOnlyList<T>>
{
    private IMapState<TimeWindow, WindowRecords> _windows = null!;
    private IMapState<RecordSlot, T> _records = null!;

    public void Open(IKeyedStateProvider state)
    {
        _windows = state.GetMapState<TimeWindow, WindowRecords>("windows");
        _records = state.GetMapState<RecordSlot, T>("records");
    }

    public IEnumerable<TimeWindow> Windows => _windows.Entries.Keys;

    private WindowRecords InfoOf(TimeWindow window) =>
        _windows.TryGetValue(window, out var info) ? info : new WindowRecords(window.Start, window.End, 0);

    public void Add(TimeWindow window, T value)
    {
        var info = InfoOf(window);
        _records.Put(info.Slot(info.Count), value);
        _windows.Put(window, info with { Count = info.Count + 1 });
    }

    /// <summary>
    /// The slot of a live window is unique: a merged window's slot is one of its parts, inside it, so a new window equal
    /// to that slot would intersect the merged window and merge into it instead.
    /// </summary>
    public void Merge(IReadOnlyList<TimeWindow> mergees, TimeWindow merged)
    {
        var target = InfoOf(mergees[0]);
        _windows.Remove(mergees[0]);
        for (int m = 1; m < mergees.Count; m++)
        {
            var other = InfoOf(mergees[m]);
            for (int i = 0; i < other.Count; i++)
            {
                var from = other.Slot(i);
                if (!_records.TryGetValue(from, out var value)) continue; // as Get, which skips a missing slot
                _records.Remove(from);
                _records.Put(target.Slot(target.Count), value);
                target = target with { Count = target.Count + 1 };
            }
            _windows.Remove(mergees[m]);
        }
        _windows.Put(merged, target);
    }

    public IReadOnlyList<T> Get(TimeWindow window)
    {
        var info = InfoOf(window);
        var records = new List<T>(info.Count);
        for (int i = 0; i < info.Count; i++)
            if (_records.TryGetValue(info.Slot(i), out var value)) records.Add(value);
        return records;
    }

    public void Remove(TimeWindow window)
    {
        var info = InfoOf(window);
        for (int i = 0; i < info.Count; i++) _records.Remove(info.Slot(i));
        _windows.Remove(window);
    }
}

/// <summary>A window's record count and the slot (a window's bounds) its records are stored under.</summary>
internal readonly record struct WindowRecords(long SlotStart, long SlotEnd, int Count)
{
    public RecordSlot Slot(int index) => new(SlotStart, SlotEnd, index);
}

/// <summary>Where one record of a window is: its window's slot and its index there (the order it came in).</summary>
internal readonly record struct RecordSlot(long SlotStart, long SlotEnd, int Index);
