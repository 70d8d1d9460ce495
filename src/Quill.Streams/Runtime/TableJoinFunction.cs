using Quill.Streams.Api;
using Quill.Streams.State;

namespace Quill.Streams.Runtime;

/// <summary>
/// A stream-table join (Kafka Streams' KStream-KTable join) as a keyed function over the stream's records and the
/// table's updates: an update sets (or, a tombstone, clears) the key's value state; a stream record is joined with the
/// key's value at that moment. Inner: a record whose key has no value gives nothing; left: it is joined with default.
/// Updates themselves give no output. The table is keyed state, so it is checkpointed and restored with the rest.
/// <para>
/// A table with a bootstrap (read without watermarks) is loaded before the stream is joined with it: the operator
/// holds the stream's records (<see cref="IWaitsForTable{TIn}"/>) until every source subtask of the table, in any
/// process, has read its partitions to the end, then joins them in the order they came.
/// </para>
/// </summary>
internal sealed class TableJoinFunction<TKey, T, TValue, TOut>(Func<T, TValue?, TOut> join, bool inner, bool waitsForTable)
    : KeyedProcessFunction<TKey, JoinInput<T, TableUpdate<TKey, TValue>>, TOut>, IWaitsForTable<JoinInput<T, TableUpdate<TKey, TValue>>>
    where TKey : notnull
{
    public bool WaitsForTable => waitsForTable;

    public bool IsStreamRecord(JoinInput<T, TableUpdate<TKey, TValue>> input) => input.IsLeft;

    private IValueState<TValue> _table = null!;

    public override void Open(IKeyedStateProvider state) => _table = state.GetValueState<TValue>("table");

    public override void ProcessElement(JoinInput<T, TableUpdate<TKey, TValue>> input, KeyedContext<TKey, TOut> context)
    {
        if (!input.IsLeft)
        {
            if (input.Right.Deleted) _table.Clear();
            else _table.Value = input.Right.Value;
            return;
        }
        if (_table.HasValue) context.Emit(join(input.Left, _table.Value));
        else if (!inner) context.Emit(join(input.Left, default));
    }
}

/// <summary>
/// A keyed function whose stream records must wait until its table is loaded: its operator holds them (in arrival
/// order, in its checkpoints) until the keyed task reports the table's loaded markers from all its source subtasks.
/// </summary>
internal interface IWaitsForTable<in TIn>
{
    /// <summary>Whether the table has a bootstrap to wait for (false for a versioned table: event time does the waiting).</summary>
    bool WaitsForTable { get; }

    /// <summary>Whether <paramref name="input"/> is a record of the stream (held) rather than a table update (applied at once).</summary>
    bool IsStreamRecord(TIn input);
}
