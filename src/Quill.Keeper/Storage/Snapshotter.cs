using Microsoft.Extensions.Logging;

namespace Quill.Keeper.Storage;

/// <summary>
/// Writes snapshots off the request path. The owner thread hands over a <see cref="StateImage"/> (cheap to take);
/// encoding it and writing the file happen on a pool thread while requests go on. At most one image waits while
/// another is written: a newer one replaces it (ZooKeeper, too, skips a snapshot while one is in progress), so
/// snapshots that come due faster than the disk writes them neither queue up nor pin old trees in memory.
/// Each snapshot also asks the log to start a new file, so that files older than the snapshot can be purged.
/// A snapshot is exact (every txn up to its zxid, none after), so recovery replays the log from the txn after it.
/// </summary>
public sealed class Snapshotter(SnapshotStore store, Action requestLogRoll, ILogger log)
{
    private readonly object _lock = new();
    private StateImage? _pending;
    private Task _writing = Task.CompletedTask;
    private bool _running;

    /// <summary>Called on the owner thread; returns at once.</summary>
    public void Take(StateImage image)
    {
        requestLogRoll();
        lock (_lock)
        {
            if (_pending is { } skipped)
                log.LogInformation("Too busy to snapshot: skipping zxid 0x{Skipped:x} for 0x{Zxid:x}", skipped.Zxid, image.Zxid);
            _pending = image;
            if (_running) return;
            _running = true;
            _writing = Task.Run(WritePending);
        }
    }

    /// <summary>Completes when every snapshot handed over so far has been written, skipped, or has failed and been logged.</summary>
    public Task Idle
    {
        get { lock (_lock) return _writing; }
    }

    private void WritePending()
    {
        while (true)
        {
            StateImage image;
            lock (_lock)
            {
                if (_pending is null)
                {
                    _running = false;
                    return;
                }
                image = _pending;
                _pending = null;
            }
            Write(image);
        }
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
