using System.Globalization;
using System.Runtime.InteropServices;

namespace Quill.Keeper.Storage;

/// <summary>
/// File naming shared by the txn log, the snapshot store and the purger. Like ZooKeeper, a file is named
/// by a prefix and the zxid in lowercase hex without padding (log.1a, snapshot.1f4); the zxid is of the
/// first entry for a log file and of the last applied txn for a snapshot. Files that do not parse (temp
/// files, anything else an operator left there) are ignored.
/// </summary>
public static partial class StorageFiles
{
    public const string LogPrefix = "log.";
    public const string SnapshotPrefix = "snapshot.";

    public static string LogFileName(long zxid) => LogPrefix + zxid.ToString("x", CultureInfo.InvariantCulture);

    public static string SnapshotFileName(long zxid) => SnapshotPrefix + zxid.ToString("x", CultureInfo.InvariantCulture);

    public static bool TryParseZxid(string fileName, string prefix, out long zxid)
    {
        zxid = 0;
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal)) return false;
        var hex = fileName.AsSpan(prefix.Length);
        return hex.Length is > 0 and <= 16
            && long.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out zxid);
    }

    /// <summary>Files in <paramref name="directory"/> named prefix.hex, oldest (smallest zxid) first.</summary>
    public static List<(long Zxid, string Path)> List(string directory, string prefix)
    {
        var found = new List<(long Zxid, string Path)>();
        if (!Directory.Exists(directory)) return found;
        foreach (var path in Directory.EnumerateFiles(directory, prefix + "*"))
        {
            if (TryParseZxid(Path.GetFileName(path), prefix, out var zxid)) found.Add((zxid, path));
        }
        found.Sort((a, b) => a.Zxid.CompareTo(b.Zxid));
        return found;
    }

    /// <summary>
    /// Replaces a small file whole, durably: written to a temp file, fsynced, renamed over the old one, directory
    /// fsynced. A crash leaves the old contents or the new, never a mix (the epoch files, the session secret).
    /// </summary>
    public static void WriteDurably(string path, ReadOnlySpan<byte> contents)
    {
        var tmp = path + ".tmp";
        using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            f.Write(contents);
            f.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>
    /// Makes a create, rename or delete in <paramref name="directory"/> durable: on Linux a new file's
    /// directory entry is only safe after the directory itself is fsynced. No-op where that is not possible
    /// (Windows journals metadata itself).
    /// </summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        int fd = Native.open(directory, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"Cannot open directory {directory} to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (Native.fsync(fd) != 0)
                throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    private static partial class Native
    {
        [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int open(string path, int flags);

        [LibraryImport("libc", SetLastError = true)]
        internal static partial int fsync(int fd);

        [LibraryImport("libc", SetLastError = true)]
        internal static partial int close(int fd);
    }
}
