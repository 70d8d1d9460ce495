using System.Globalization;

namespace Quill.Keeper.Storage.ZooKeeperImport;

/// <summary>How a ZooKeeper snapshot file is compressed (zookeeper.snapshot.compression.method, told by the file name's suffix).</summary>
public enum SnapshotCompression { None, Gzip, Snappy }

/// <summary>One of ZooKeeper's files in a version-2 directory: snapshot.&lt;hex zxid&gt;[.gz|.snappy] or log.&lt;hex zxid&gt;.</summary>
public sealed record ZooKeeperFile(string Path, long Zxid, SnapshotCompression Compression);

/// <summary>Finds ZooKeeper's snapshots and txn logs: ZooKeeper keeps them in a version-2 folder of dataDir and dataLogDir.</summary>
public static class ZooKeeperFiles
{
    public const string VersionFolder = "version-2";

    /// <summary>The version-2 folder of a ZooKeeper data directory; the folder itself may be given too.</summary>
    public static string VersionDirectory(string dataDir)
    {
        var full = System.IO.Path.GetFullPath(dataDir);
        return System.IO.Path.GetFileName(full.TrimEnd(System.IO.Path.DirectorySeparatorChar)) == VersionFolder
            ? full
            : System.IO.Path.Combine(full, VersionFolder);
    }

    /// <summary>Snapshots, oldest first.</summary>
    public static List<ZooKeeperFile> Snapshots(string versionDirectory) => List(versionDirectory, "snapshot.", allowCompression: true);

    /// <summary>Txn logs, by the zxid of their first entry, oldest first.</summary>
    public static List<ZooKeeperFile> Logs(string versionDirectory) => List(versionDirectory, "log.", allowCompression: false);

    private static List<ZooKeeperFile> List(string directory, string prefix, bool allowCompression)
    {
        var found = new List<ZooKeeperFile>();
        if (!Directory.Exists(directory)) return found;
        foreach (var path in Directory.EnumerateFiles(directory, prefix + "*"))
        {
            var rest = System.IO.Path.GetFileName(path)[prefix.Length..];
            var compression = SnapshotCompression.None;
            if (allowCompression && rest.EndsWith(".gz", StringComparison.Ordinal)) (rest, compression) = (rest[..^3], SnapshotCompression.Gzip);
            else if (allowCompression && rest.EndsWith(".snappy", StringComparison.Ordinal)) (rest, compression) = (rest[..^7], SnapshotCompression.Snappy);
            if (rest.Length is > 0 and <= 16 && long.TryParse(rest, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var zxid))
                found.Add(new ZooKeeperFile(path, zxid, compression));
        }
        found.Sort((a, b) => a.Zxid.CompareTo(b.Zxid));
        return found;
    }
}
