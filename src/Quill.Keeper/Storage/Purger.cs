using Microsoft.Extensions.Logging;

namespace Quill.Keeper.Storage;

/// <summary>
/// Deletes snapshots and txn log files that recovery no longer needs (ZooKeeper's PurgeTxnLog): keeps the
/// newest retainCount snapshots and, for the oldest of those, the log file it starts replaying from (the
/// newest whose first zxid is &lt;= the snapshot's zxid) and every newer log file. That is the same file
/// selection <see cref="TxnLog.Recover"/> makes. Safe to run while the log and snapshots are being written:
/// the file being appended to is always the newest, and unfinished snapshots are temp files it ignores.
/// </summary>
public static class Purger
{
    /// <summary>ZooKeeper never keeps fewer than three snapshots; neither do we.</summary>
    public const int MinRetainCount = 3;

    /// <summary>Returns the paths it deleted.</summary>
    public static IReadOnlyList<string> Purge(string snapDir, string logDir, int retainCount, ILogger logger)
    {
        if (retainCount < MinRetainCount)
        {
            logger.LogWarning("Snapshot retain count {Count} is below the minimum; keeping {Min}", retainCount, MinRetainCount);
            retainCount = MinRetainCount;
        }

        var deleted = new List<string>();
        var snapshots = StorageFiles.List(snapDir, StorageFiles.SnapshotPrefix);
        if (snapshots.Count == 0) return deleted;

        int firstKeptSnapshot = Math.Max(0, snapshots.Count - retainCount);
        long oldestKeptZxid = snapshots[firstKeptSnapshot].Zxid;

        var logs = StorageFiles.List(logDir, StorageFiles.LogPrefix);
        int firstKeptLog = 0;
        for (int i = 0; i < logs.Count; i++)
        {
            if (logs[i].Zxid <= oldestKeptZxid) firstKeptLog = i;
        }

        for (int i = 0; i < firstKeptSnapshot; i++) Delete(snapshots[i].Path, deleted, logger);
        for (int i = 0; i < firstKeptLog; i++) Delete(logs[i].Path, deleted, logger);
        return deleted;
    }

    private static void Delete(string path, List<string> deleted, ILogger logger)
    {
        try
        {
            File.Delete(path);
            deleted.Add(path);
            logger.LogInformation("Purged {File}", path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not purge {File}", path);
        }
    }
}
