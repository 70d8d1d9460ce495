using Quill.Streams.Api;
using Quill.Streams.State;

namespace Quill.Streams.Runtime;

/// <summary>
/// An event-time temporal join (Flink's TemporalRowTimeJoinOperator, a stream joined <c>FOR SYSTEM_TIME AS OF</c> a
/// versioned table) as a keyed function over the stream's records and the table's updates:
/// - an update is a version of its key from its timestamp on (a later update with the same timestamp replaces it;
///   a tombstone is a version without a value);
/// - a record waits, in arrival order, until the watermark (the minimum over both inputs) reaches its timestamp; then
///   it is joined with the version valid at its time (the latest with a timestamp at or before it) and emitted with its
///   own timestamp. Inner: a record with no valid version (none, or a tombstone) gives nothing; left: it is joined with
///   default. Records that become due together are emitted in the order they came, as Flink does;
/// - each time the watermark passes records or updates of a key, the key's versions older than the one valid at the
///   watermark are dropped (no record still to come can need them), so a key keeps one version at or below the
///   watermark and those above it. A deleted key keeps its tombstone, so an update older than the deletion that comes
///   late cannot bring the key back; with a retention for deleted keys (Kafka Streams' history retention of a
///   versioned store), a tombstone that is all a key has left goes once the watermark is that far past it, so that key
///   churn does not grow the state for good (the joins give the same results without it; only an update older than the
///   deletion, coming later than that, would then count).
/// A record that comes at or below the watermark is not dropped: its timer is due at once and fires at the next
/// watermark, where it is joined with the versions still held, as Flink's operator does (right when the key's version
/// at the watermark began at or before the record; otherwise the record finds no version). Updates that come late are
/// taken as versions as well (they affect only records not joined yet). Both buffers are keyed state and the timers are
/// the operator's, so a checkpoint holds them and a restore at any parallelism gives each key's to its new task.
/// </summary>
/// <param name="deletedKeyRetentionMs">How long past the watermark a deleted key's tombstone is kept; null: for good.</param>
internal sealed class TemporalJoinFunction<TKey, T, TValue, TOut>(Func<T, TValue?, TOut> join, bool inner, long? deletedKeyRetentionMs = null)
    : KeyedProcessFunction<TKey, JoinInput<T, TableUpdate<TKey, TValue>>, TOut> where TKey : notnull
{
    private IListState<WaitingRecord<T>> _waiting = null!;
    private IMapState<long, TableVersion<TValue>> _versions = null!;

    public override void Open(IKeyedStateProvider state)
    {
        _waiting = state.GetListState<WaitingRecord<T>>("temporal-join-records");
        _versions = state.GetMapState<long, TableVersion<TValue>>("temporal-join-versions");
    }

    public override void ProcessElement(JoinInput<T, TableUpdate<TKey, TValue>> input, KeyedContext<TKey, TOut> context)
    {
        long time = context.Timestamp;
        if (input.IsLeft) _waiting.Add(new WaitingRecord<T> { Time = time, Record = input.Left });
        else _versions.Put(time, new TableVersion<TValue> { Deleted = input.Right.Deleted, Value = input.Right.Value });
        // Due once the watermark reaches the time: then the record is joined, or the versions before this one dropped.
        context.Timers.RegisterEventTimeTimer(time);
        if (!input.IsLeft && input.Right.Deleted && deletedKeyRetentionMs is { } retention)
            context.Timers.RegisterEventTimeTimer(time > long.MaxValue - retention ? long.MaxValue : time + retention);
    }

    public override void OnTimer(long time, KeyedContext<TKey, TOut> context)
    {
        long watermark = context.Timers.CurrentWatermark;
        var waiting = _waiting.Get();
        if (waiting.Count > 0)
        {
            List<WaitingRecord<T>> due = [], later = [];
            foreach (var record in waiting) (record.Time <= watermark ? due : later).Add(record);
            if (due.Count > 0)
            {
                _waiting.Update(later);
                foreach (var record in due)
                {
                    if (TryVersionAt(record.Time, out var value)) context.Emit(join(record.Record, value), record.Time);
                    else if (!inner) context.Emit(join(record.Record, default), record.Time);
                }
            }
        }
        DropVersionsBefore(watermark);
    }

    /// <summary>The key's value at <paramref name="time"/>: its latest version at or before it, unless that is a tombstone.</summary>
    private bool TryVersionAt(long time, out TValue? value)
    {
        long best = long.MinValue;
        TableVersion<TValue>? version = null;
        foreach (var (from, candidate) in _versions.Entries)
        {
            if (from > time || (version is not null && from < best)) continue;
            best = from;
            version = candidate;
        }
        value = version is { Deleted: false } ? version.Value : default;
        return version is { Deleted: false };
    }

    /// <summary>
    /// Drops the versions older than the one valid at <paramref name="watermark"/>, and a lone tombstone the watermark
    /// has passed by the retention for deleted keys.
    /// </summary>
    private void DropVersionsBefore(long watermark)
    {
        var entries = _versions.Entries;
        if (entries.Count == 0) return;
        long valid = long.MinValue;
        foreach (long from in entries.Keys)
            if (from <= watermark && from > valid) valid = from;
        if (valid == long.MinValue) return;
        if (entries.Count > 1)
            foreach (long from in entries.Keys.Where(from => from < valid).ToList()) _versions.Remove(from);
        // Without it the key has no version at all, which joins as the tombstone does (nothing, or default).
        var left = _versions.Entries;
        if (deletedKeyRetentionMs is { } retention && left.Count == 1 && left.TryGetValue(valid, out var last) && last.Deleted
            && unchecked((ulong)(watermark - valid)) >= (ulong)retention)
            _versions.Remove(valid);
    }
}

/// <summary>A stream record waiting for the watermark to reach its time (keyed state, so written as JSON).</summary>
internal sealed class WaitingRecord<T>
{
    public long Time { get; set; }
    public T Record { get; set; } = default!;
}

/// <summary>A table version: the key's value from the version's time on, or its deletion.</summary>
internal sealed class TableVersion<TValue>
{
    public bool Deleted { get; set; }
    public TValue Value { get; set; } = default!;
}
