using Quill.Streams.Api;
using Quill.Streams.State;

namespace Quill.Streams.Runtime;

/// <summary>
/// A stream-table join (Kafka Streams' KStream-KTable join) as a keyed function over the stream's records and the
/// table's updates: an update sets (or, a tombstone, clears) the key's value state; a stream record is joined with the
/// key's value at that moment. Inner: a record whose key has no value gives nothing; left: it is joined with default.
/// Updates themselves give no output. The table is keyed state, so it is checkpointed and restored with the rest.
/// </summary>
internal sealed class TableJoinFunction<TKey, T, TValue, TOut>(Func<T, TValue?, TOut> join, bool inner)
    : KeyedProcessFunction<TKey, JoinInput<T, TableUpdate<TKey, TValue>>, TOut> where TKey : notnull
{
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
