using System.Runtime.ExceptionServices;

namespace Quill.Streams.Runtime;

/// <summary>
/// The asynchronous phase of a keyed task's checkpoints (Flink's): an operator whose state is captured at the barrier
/// as a consistent view (state on disk: a RocksDB snapshot) writes its state file on another thread while the task goes
/// on processing, and the task acknowledges the checkpoint only once every such write has finished and recorded its
/// snapshot. One checkpoint is in flight at a time (the coordinator triggers the next only after the last completed),
/// so the writes of one checkpoint at most run at once. A write or acknowledgement that fails fails the task: the loop
/// is woken and throws it. Started and acknowledged on the task's loop; the writes and the delayed acknowledgement run
/// on the pool.
/// </summary>
internal sealed class AsyncSnapshots(Action wake)
{
    private readonly List<Task> _started = [];
    private Task _inFlight = Task.CompletedTask;
    private volatile Exception? _failure;

    /// <summary>Ends the writes in flight early when the task is aborted (their files are then never named by a checkpoint).</summary>
    public CancellationToken Abort { get; set; }

    /// <summary>Runs <paramref name="write"/> on the pool as part of the checkpoint whose barrier is passing now.</summary>
    public void Start(Action<CancellationToken> write)
    {
        var abort = Abort;
        _started.Add(Task.Run(() => write(abort), abort));
    }

    /// <summary>
    /// Called once the barrier has passed the whole chain: acknowledges at once when no operator started a write,
    /// else once they have all finished.
    /// </summary>
    public void Acknowledge(long checkpointId, Action<long> acknowledge)
    {
        if (_started.Count == 0)
        {
            acknowledge(checkpointId);
            return;
        }
        var writes = _started.ToArray();
        _started.Clear();
        _inFlight = AcknowledgeAfterAsync(writes, checkpointId, acknowledge);
    }

    private async Task AcknowledgeAfterAsync(Task[] writes, long checkpointId, Action<long> acknowledge)
    {
        try
        {
            await Task.WhenAll(writes).ConfigureAwait(false);
            acknowledge(checkpointId);
        }
        catch (Exception e)
        {
            _failure = e;
            wake();
        }
    }

    /// <summary>On the loop: rethrows a failed write or acknowledgement.</summary>
    public void ThrowIfFailed()
    {
        if (_failure is { } failure) ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>
    /// Waits for the writes in flight, so that the task ends only after them: its final checkpoint is acknowledged,
    /// and nothing reads the state once the run closes it.
    /// </summary>
    public Task DrainAsync() => Task.WhenAll([_inFlight, .. _started]).ContinueWith(_ => { }, TaskScheduler.Default);
}
