using System.Threading.Channels;
using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>
/// The end of an upstream task's chain in front of a keyed stage: each record goes to the mailbox of the task that owns
/// its key; watermarks, barriers, a table's loaded marker and the end go to every mailbox, tagged with this sender so each receiver can combine
/// its inputs. Writing waits while a mailbox is full (backpressure).
/// <para>
/// To a mailbox in this process, records go in batches (<see cref="ElementKind.RecordBatch"/>): one channel write per
/// batch instead of per record. A batch goes when it is full, before any control element (so watermarks, barriers and
/// the end stay in order with the records on every channel), and when the task has no more input at hand
/// (<see cref="FlushAsync"/>), so a record never waits for later ones. A mailbox in another process (scale-out) gets
/// each record as it comes.
/// </para>
/// </summary>
internal sealed class KeyedShuffle<TKey, T> : IStreamInput<T> where TKey : notnull
{
    private readonly Func<T, TKey> _keySelector;
    private readonly IReadOnlyList<ChannelWriter<StreamElement<T>>> _mailboxes;
    private readonly int _sender;
    private readonly CancellationToken _abort;
    private readonly int _batchSize;
    /// <summary>Per mailbox: whether its records go in batches (a mailbox in this process, and batches of more than one).</summary>
    private readonly bool[] _batched;
    /// <summary>Per mailbox, the batch being filled (null before its first record and after it is sent).</summary>
    private readonly RecordBatch<T>?[] _pending;
    private bool _anyPending;

    public KeyedShuffle(Func<T, TKey> keySelector, IReadOnlyList<ChannelWriter<StreamElement<T>>> mailboxes, int sender,
        CancellationToken abort, int batchSize = 1, IReadOnlyList<bool>? local = null)
    {
        _keySelector = keySelector;
        _mailboxes = mailboxes;
        _sender = sender;
        _abort = abort;
        _batchSize = batchSize;
        _batched = new bool[mailboxes.Count];
        for (int i = 0; i < _batched.Length; i++) _batched[i] = batchSize > 1 && local is not null && local[i];
        _pending = new RecordBatch<T>?[mailboxes.Count];
    }

    /// <summary>
    /// Records per batch for a mailbox of <paramref name="mailboxCapacity"/> elements: a 32nd of it, at most 64, so a
    /// full mailbox holds at most capacity x capacity / 32 records (32k at the default 1024); a small mailbox (under 64)
    /// gets single records, as before batching.
    /// </summary>
    public static int BatchSizeFor(int mailboxCapacity) => Math.Clamp(mailboxCapacity / 32, 1, 64);

    public ValueTask RecordAsync(T value, long timestamp)
    {
        int slot = KeySlots.SlotOf(_keySelector(value), _mailboxes.Count);
        if (!_batched[slot]) return _mailboxes[slot].WriteAsync(StreamElement<T>.Record(value, timestamp, _sender), _abort);
        var batch = _pending[slot] ??= new RecordBatch<T>(_batchSize);
        batch.Add(value, timestamp);
        _anyPending = true;
        if (!batch.IsFull) return ValueTask.CompletedTask;
        _pending[slot] = null;
        return _mailboxes[slot].WriteAsync(StreamElement<T>.Records(batch, _sender), _abort);
    }

    public ValueTask WatermarkAsync(long watermark) => BroadcastAsync(ElementKind.Watermark, watermark);
    public ValueTask WatermarkStatusAsync(WatermarkStatus status) => BroadcastAsync(ElementKind.WatermarkStatus, (long)status);
    public ValueTask BarrierAsync(long checkpointId) => BroadcastAsync(ElementKind.Barrier, checkpointId);
    public ValueTask EndAsync() => BroadcastAsync(ElementKind.End, 0);
    public ValueTask TableLoadedAsync(int tableSenders) => BroadcastAsync(ElementKind.TableLoaded, tableSenders);

    /// <summary>Ticks stay in their task: the keyed stage has its own clocks.</summary>
    public ValueTask ProcessingTimeAsync(long now) => ValueTask.CompletedTask;

    /// <summary>Sends the batches being filled; a batch of one record goes as that record (and is kept to fill again).</summary>
    public async ValueTask FlushAsync()
    {
        if (!_anyPending) return;
        _anyPending = false;
        for (int slot = 0; slot < _pending.Length; slot++)
        {
            if (_pending[slot] is not { Count: > 0 } batch) continue;
            if (batch.Count == 1)
            {
                var element = StreamElement<T>.Record(batch.ValueAt(0), batch.TimestampAt(0), _sender);
                batch.Clear();
                await _mailboxes[slot].WriteAsync(element, _abort);
                continue;
            }
            _pending[slot] = null;
            await _mailboxes[slot].WriteAsync(StreamElement<T>.Records(batch, _sender), _abort);
        }
    }

    private async ValueTask BroadcastAsync(ElementKind kind, long marker)
    {
        await FlushAsync(); // the records before a control element reach every mailbox before it
        foreach (var mailbox in _mailboxes) await mailbox.WriteAsync(StreamElement<T>.Control(kind, marker, _sender), _abort);
    }
}
