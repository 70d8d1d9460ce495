namespace Quill.Keeper.Storage;

public sealed class TxnLogOptions
{
    /// <summary>fsync on every <see cref="TxnLog.Commit"/>. False only when zoo.cfg says forceSync=no.</summary>
    public bool ForceSync { get; init; } = true;

    /// <summary>
    /// When set, the file is grown in chunks of this many bytes (zero-filled, like ZooKeeper's preallocSize)
    /// so most commits do not change the file size. Null: the file grows with each write.
    /// </summary>
    public long? PreallocSize { get; init; }

    /// <summary>An fsync slower than this logs a warning (ZooKeeper's fsync.warningthresholdms).</summary>
    public TimeSpan FsyncWarningThreshold { get; init; } = TimeSpan.FromSeconds(1);
}
