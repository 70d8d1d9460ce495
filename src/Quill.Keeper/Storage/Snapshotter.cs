using Microsoft.Extensions.Logging;

namespace Quill.Keeper.Storage;

/// <summary>
/// Writes snapshots off the request path. The owner thread hands over a <see cref="StateImage"/> (cheap to take);
/// encoding it and writing the file happen on a pool thread, one snapshot after another, while requests go on.
/// Each snapshot also asks the log to start a new file, so that files older than the snapshot can be purged.
/// A snapshot is exact (every txn up to its zxid, none after), so recovery replays the log from the txn after it.
/// </summary>
public sealed class Snapshotter(SnapshotStore store, Action requestLogRoll, ILogger log)
{
    private readonly object _lock = new();
    private Task _writing = Task.CompletedTask;

    /// <summary>Called on the owner thread; returns at once.</summary>
    public void Take(StateImage image)
    {
        requestLogRoll();
        lock (_lock) _writing = _writing.ContinueWith(_ => Write(image), TaskScheduler.Default);
    }

    /// <summary>Completes when every snapshot handed over so far has been written (or has failed and been logged).</summary>
    public Task Idle
    {
        get { lock (_lock) return _writing; }
    }

    private void Write(StateImage image)
    {
        try
        {
            var body = image.Encode();
            store.Write(image.Zxid, s => s.Write(body));
        }
        catch (Exception e)
        {
            log.LogError(e, "Snapshot at zxid 0x{Zxid:x} failed", image.Zxid);
        }
    }
}
