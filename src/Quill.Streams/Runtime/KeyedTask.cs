using System.Threading.Channels;
using Quill.Streams.Checkpoints;
using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>
/// One parallel task of a keyed stage. Its mailbox receives what every upstream task sends it (each element tagged with
/// its sender) and its own processing-time ticks; it handles them one at a time on its loop, pushing into its chain:
/// - watermarks: the chain sees the minimum over the senders, when it rises (a sender that is idle does not count;
///   when every sender is idle, the chain gets the highest of their watermarks, then goes idle itself until one is
///   active again, as Flink's StatusWatermarkValve does). A sender that ended keeps its last watermark: senders end
///   only when the job stops, and a stop moves no event time (Flink's stop without drain), so no window fires because
///   one source task happened to end before another;
/// - barriers (Flink's aligned checkpoints): once a sender's barrier arrives, that sender's later elements wait until
///   every live sender has sent the same barrier; then the barrier goes down the chain (its operators snapshot, its
///   sinks flush), the task acknowledges the checkpoint (at once, or, when an operator writes its state file off the
///   loop, once that is written: <see cref="AsyncSnapshots"/>), and the held elements follow;
/// - a table's loaded markers (<see cref="ElementKind.TableLoaded"/>, from each source subtask of a table this stage
///   joins, wherever it runs): once the task has one from as many senders as the table has subtasks, the chain is told
///   the table is loaded (a stream-table join then joins the stream records it held). A marker is an element of its
///   sender like the others, so it waits behind that sender's barrier, and never holds a barrier back;
/// - the end: when every sender has ended, the chain ends and the task finishes.
/// A batch of records (<see cref="ElementKind.RecordBatch"/>, from a sender in this process) is its records in order;
/// held while its sender is blocked, it is held whole. When the mailbox is empty, before waiting, the task flushes its
/// chain (<see cref="IStreamControl.FlushAsync"/>), so batches for a later stage do not wait for more input.
/// </summary>
internal sealed class KeyedTask<T> : IProcessingTimeScheduler, IJobTask
{
    private readonly Channel<StreamElement<T>> _mailbox;
    private readonly CheckpointCoordinator? _checkpoints;
    private readonly TimeProvider _time;
    private readonly long[] _watermarks;
    private readonly bool[] _ended;
    private readonly bool[] _blocked;
    private readonly bool[] _idle;
    private readonly bool[] _tableLoaded;
    private int _tableLoadedCount;
    private readonly Queue<StreamElement<T>> _held = new();
    private readonly ITimer _tickTimer;
    private long _watermark = long.MinValue;
    private long _nextTick = long.MaxValue;
    private int _endedCount;
    private WatermarkStatus _status = WatermarkStatus.Active;
    private long _pendingBarrier = -1;

    public KeyedTask(Channel<StreamElement<T>> mailbox, int senders, TimeProvider time, CheckpointCoordinator? checkpoints)
    {
        _mailbox = mailbox;
        _checkpoints = checkpoints;
        _time = time;
        _watermarks = Enumerable.Repeat(long.MinValue, senders).ToArray();
        _ended = new bool[senders];
        _blocked = new bool[senders];
        _idle = new bool[senders];
        _tableLoaded = new bool[senders];
        _tickTimer = time.CreateTimer(_ => PostTick(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Snapshots = new AsyncSnapshots(PostTick);
    }

    /// <summary>The state files the chain's operators write off the loop, which this task's acknowledgements wait for.</summary>
    public AsyncSnapshots Snapshots { get; }

    /// <summary>The operators this task pushes into; set once, after they are built with this task as their clock.</summary>
    public IStreamInput<T> Chain { get; set; } = null!;

    public long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Called on the task's loop only (by operators registering timers).</summary>
    public void RequestTick(long time)
    {
        if (time >= _nextTick) return;
        _nextTick = time;
        var delay = TimeSpan.FromMilliseconds(Math.Max(0, time - Now));
        _tickTimer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    private void PostTick()
    {
        // From the timer's thread: the tick is handled on the loop like any element. A full mailbox just delays it.
        _ = _mailbox.Writer.WriteAsync(StreamElement<T>.Control(ElementKind.ProcessingTimeTick, 0, -1)).AsTask();
    }

    public async Task RunAsync(CancellationToken stop, CancellationToken abort)
    {
        var reader = _mailbox.Reader;
        bool unflushed = false;
        Snapshots.Abort = abort;
        try
        {
            while (_endedCount < _ended.Length)
            {
                abort.ThrowIfCancellationRequested();
                Snapshots.ThrowIfFailed();
                if (!reader.TryRead(out var element))
                {
                    // Nothing more at hand: before waiting, what the chain holds back for the next stage goes on.
                    if (unflushed)
                    {
                        unflushed = false;
                        await Chain.FlushAsync();
                        continue;
                    }
                    element = await reader.ReadAsync(abort);
                }
                await HandleAsync(element);
                unflushed = true;
            }
            await Chain.EndAsync();
        }
        finally
        {
            // The last checkpoint may still be writing: it is acknowledged (or fails) before the task ends.
            await Snapshots.DrainAsync();
        }
        Snapshots.ThrowIfFailed();
    }

    private async ValueTask HandleAsync(StreamElement<T> element)
    {
        if (element.Kind == ElementKind.ProcessingTimeTick)
        {
            _nextTick = long.MaxValue; // operators ask again for their next timer while they handle this one
            await Chain.ProcessingTimeAsync(Now);
            return;
        }
        int sender = element.Sender;
        if (_blocked[sender])
        {
            _held.Enqueue(element);
            return;
        }
        switch (element.Kind)
        {
            case ElementKind.Record:
                await Chain.RecordAsync(element.Value, element.Timestamp);
                break;
            case ElementKind.RecordBatch:
                var batch = element.Batch!;
                for (int i = 0; i < batch.Count; i++) await Chain.RecordAsync(batch.ValueAt(i), batch.TimestampAt(i));
                break;
            case ElementKind.Watermark:
                _watermarks[sender] = Math.Max(_watermarks[sender], element.Marker);
                await AdvanceWatermarkAsync();
                break;
            case ElementKind.WatermarkStatus:
                _idle[sender] = (WatermarkStatus)element.Marker == WatermarkStatus.Idle;
                await AdvanceWatermarkAsync();
                break;
            case ElementKind.Barrier:
                _blocked[sender] = true;
                _pendingBarrier = element.Marker;
                await ReleaseIfAlignedAsync();
                break;
            case ElementKind.TableLoaded:
                if (_tableLoaded[sender]) break;
                _tableLoaded[sender] = true;
                if (++_tableLoadedCount == element.Marker) await Chain.TableLoadedAsync((int)element.Marker);
                break;
            case ElementKind.End:
                _ended[sender] = true;
                _endedCount++;
                await ReleaseIfAlignedAsync(); // the barrier may have waited only for this sender
                break;
        }
    }

    private async ValueTask AdvanceWatermarkAsync()
    {
        long min = long.MaxValue, maxOfIdle = long.MinValue;
        bool anyActive = false;
        for (int i = 0; i < _watermarks.Length; i++)
        {
            if (_idle[i]) maxOfIdle = Math.Max(maxOfIdle, _watermarks[i]);
            else
            {
                anyActive = true;
                min = Math.Min(min, _watermarks[i]);
            }
        }
        if (!anyActive)
        {
            // All idle: event time goes as far as the furthest of them got, then waits for one to be active again.
            await EmitWatermarkAsync(maxOfIdle);
            await SetStatusAsync(WatermarkStatus.Idle);
            return;
        }
        await SetStatusAsync(WatermarkStatus.Active);
        await EmitWatermarkAsync(min);
    }

    private async ValueTask EmitWatermarkAsync(long watermark)
    {
        if (watermark <= _watermark) return;
        _watermark = watermark;
        await Chain.WatermarkAsync(watermark);
    }

    private async ValueTask SetStatusAsync(WatermarkStatus status)
    {
        if (status == _status) return;
        _status = status;
        await Chain.WatermarkStatusAsync(status);
    }

    private async ValueTask ReleaseIfAlignedAsync()
    {
        if (_pendingBarrier < 0) return;
        for (int i = 0; i < _blocked.Length; i++)
            if (!_blocked[i] && !_ended[i]) return;
        long checkpointId = _pendingBarrier;
        _pendingBarrier = -1;
        Array.Clear(_blocked);
        await Chain.BarrierAsync(checkpointId);
        if (_checkpoints is { } checkpoints) Snapshots.Acknowledge(checkpointId, checkpoints.Acknowledge);
        int count = _held.Count;
        for (int i = 0; i < count; i++) await HandleAsync(_held.Dequeue());
    }

    /// <summary>A keyed task stops when its senders end, not at the job's stop.</summary>
    public void Finish(bool completed) => _tickTimer.Dispose();
}
