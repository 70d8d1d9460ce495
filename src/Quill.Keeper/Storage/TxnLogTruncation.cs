using Microsoft.Extensions.Logging;

namespace Quill.Keeper.Storage;

/// <summary>
/// Drops logged txns above a zxid: what a learner does when the leader says TRUNC (txns it logged that the quorum
/// never committed) or sends a SNAP. Runs on a closed log (no <see cref="TxnLog"/> open on the directory): files that
/// start above the zxid are deleted, the file holding it is cut right after it.
/// </summary>
public static class TxnLogTruncation
{
    public static void TruncateAfter(string directory, long zxid, ILogger log)
    {
        bool changed = false;
        foreach (var (first, path) in StorageFiles.List(directory, StorageFiles.LogPrefix))
        {
            if (first > zxid)
            {
                File.Delete(path);
                log.LogInformation("Truncating the txn log after zxid 0x{Zxid:x}: deleted {File}", zxid, path);
                changed = true;
                continue;
            }
            long cut = -1;
            long length;
            using (var reader = new TxnLogFileReader(path))
            {
                length = reader.Length;
                while (reader.TryReadNext(out var entry))
                {
                    if (entry.Zxid > zxid)
                    {
                        cut = reader.GoodEnd - TxnLogFormat.FrameSize(entry.Body.Length);
                        break;
                    }
                }
            }
            if (cut < 0) continue;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0))
            {
                stream.SetLength(cut);
                stream.Flush(flushToDisk: true);
            }
            log.LogInformation("Truncating the txn log after zxid 0x{Zxid:x}: cut {File} at offset {Offset} ({Dropped} bytes)", zxid, path, cut, length - cut);
            changed = true;
        }
        if (changed) StorageFiles.SyncDirectory(directory);
    }
}
