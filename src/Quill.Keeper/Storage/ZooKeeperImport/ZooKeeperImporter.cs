using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;
using Quill.Keeper.Tree;

namespace Quill.Keeper.Storage.ZooKeeperImport;

/// <summary>What an import read and wrote.</summary>
public sealed record ZooKeeperImportResult(
    string? SnapshotRead, long SnapshotZxid, int LogFilesRead, int TxnsReplayed, int TxnsIgnored,
    long LastZxid, int Nodes, int Sessions, string KeeperSnapshot);

/// <summary>
/// Turns an Apache ZooKeeper 3.x data directory into Keeper's: loads ZooKeeper's newest valid snapshot, replays the
/// txn logs after it as ZooKeeper would on start, and writes the result as one Keeper snapshot in Keeper's dataDir.
/// Every znode keeps its data, ACL and stat (zxids, times, versions, ephemeral owner), the sessions are kept (their
/// ephemerals live until they expire, as after a ZooKeeper restart), and Keeper's next zxid follows ZooKeeper's last.
/// ZooKeeper's files are only read. Keeper's own files must not exist yet: an import never replaces Keeper data.
/// </summary>
public static class ZooKeeperImporter
{
    /// <param name="zooKeeperDataDir">ZooKeeper's dataDir (or its version-2 folder): the snapshots, and the logs unless <paramref name="zooKeeperDataLogDir"/>.</param>
    /// <param name="zooKeeperDataLogDir">ZooKeeper's dataLogDir when it differs from dataDir.</param>
    /// <param name="target">Keeper's configuration: where the snapshot goes, and whether TTL nodes exist (extendedTypesEnabled).</param>
    public static ZooKeeperImportResult Import(string zooKeeperDataDir, string? zooKeeperDataLogDir, KeeperOptions target, ILogger logger)
    {
        string snapshotDir = ZooKeeperFiles.VersionDirectory(zooKeeperDataDir);
        string logDir = ZooKeeperFiles.VersionDirectory(string.IsNullOrEmpty(zooKeeperDataLogDir) ? zooKeeperDataDir : zooKeeperDataLogDir);
        if (!Directory.Exists(snapshotDir))
            throw new ZooKeeperImportException($"{snapshotDir} does not exist: {zooKeeperDataDir} is not a ZooKeeper data directory");
        if (!Directory.Exists(logDir))
            throw new ZooKeeperImportException($"{logDir} does not exist: {zooKeeperDataLogDir} is not a ZooKeeper data log directory");
        RefuseExistingKeeperData(target);

        var (tree, snapshot) = LoadNewestValidSnapshot(snapshotDir, target.ExtendedTypesEnabled, logger);
        long snapshotZxid = snapshot?.Zxid ?? 0;
        var (logsRead, replayed) = Replay(tree, snapshotZxid, logDir, logger);

        AddMissingSystemNodes(tree);
        WarnAboutTtlNodes(tree, target.ExtendedTypesEnabled, logger);
        long lastZxid = tree.LastZxid;
        foreach (var node in tree.Nodes.Values) lastZxid = Math.Max(lastZxid, Math.Max(node.Pzxid, Math.Max(node.Czxid, node.Mzxid)));

        var image = new StateImage(
            tree.Sessions.Select(s => (s.Key, s.Value)).ToList(),
            new TreeImage(lastZxid, tree.Nodes.Select(n => new TreeImage.Entry(n.Key, n.Value.Data, n.Value.Acl,
                n.Value.Czxid, n.Value.Mzxid, n.Value.Pzxid, n.Value.Ctime, n.Value.Mtime,
                n.Value.Version, n.Value.Cversion, n.Value.Aversion, n.Value.EphemeralOwner))
                // Parents before children, as the loader needs: a parent's path is a prefix of its children's.
                .OrderBy(e => e.Path, StringComparer.Ordinal).ToArray()));
        var store = new SnapshotStore(target.DataDir, logger);
        string written = store.Write(lastZxid, body => body.Write(image.Encode()));
        CheckReadsBack(store, target, tree.Nodes.Count, written);

        logger.LogInformation(
            "Imported ZooKeeper's {Snapshot} and {Logs} log files ({Replayed} txns replayed, {Ignored} found already applied): " +
            "{Nodes} znodes, {Sessions} sessions, last zxid 0x{Zxid:x}, written to {Written}",
            snapshot?.Path ?? "(no snapshot)", logsRead, replayed, tree.IgnoredTxns, tree.Nodes.Count, tree.Sessions.Count, lastZxid, written);
        return new ZooKeeperImportResult(snapshot?.Path, snapshotZxid, logsRead, replayed, tree.IgnoredTxns, lastZxid,
            tree.Nodes.Count, tree.Sessions.Count, written);
    }

    private static void RefuseExistingKeeperData(KeeperOptions target)
    {
        var existing = StorageFiles.List(target.DataDir, StorageFiles.SnapshotPrefix)
            .Concat(StorageFiles.List(target.EffectiveDataLogDir, StorageFiles.LogPrefix)).Select(f => f.Path).ToList();
        if (existing.Count > 0)
            throw new ZooKeeperImportException(
                $"Keeper already has data ({string.Join(", ", existing.Take(3))}{(existing.Count > 3 ? ", ..." : "")}): an import " +
                "never replaces it. Move Keeper's snapshot.* and log.* files away (or point dataDir elsewhere) and import again.");
    }

    /// <summary>Like ZooKeeper, the newest snapshot that reads back whole; broken ones are skipped with a warning.</summary>
    private static (ImportedTree Tree, ZooKeeperFile? Snapshot) LoadNewestValidSnapshot(string directory, bool extendedTypes, ILogger logger)
    {
        var snapshots = ZooKeeperFiles.Snapshots(directory);
        ZooKeeperImportException? newestProblem = null;
        for (int i = snapshots.Count - 1; i >= 0; i--)
        {
            try
            {
                var tree = ZooKeeperSnapshotReader.Read(snapshots[i], extendedTypes);
                logger.LogInformation("Read ZooKeeper snapshot {File}: {Nodes} znodes, {Sessions} sessions",
                    snapshots[i].Path, tree.Nodes.Count, tree.Sessions.Count);
                return (tree, snapshots[i]);
            }
            catch (ZooKeeperImportException e)
            {
                newestProblem ??= e;
                logger.LogWarning("{Problem}; trying an older snapshot", e.Message);
            }
        }
        if (newestProblem is not null)
            throw new ZooKeeperImportException($"no valid ZooKeeper snapshot in {directory}. The newest: {newestProblem.Message}", newestProblem);
        // ZooKeeper without a snapshot starts from its empty tree and replays the logs from the first txn.
        logger.LogWarning("No ZooKeeper snapshot in {Directory}: starting from an empty tree and replaying every log", directory);
        var empty = new ImportedTree(extendedTypes);
        empty.AddFromSnapshot("/", new ImportedNode { Data = [] });
        return (empty, null);
    }

    /// <summary>Applies every logged txn after the snapshot's zxid; a txn missing in between stops the import.</summary>
    private static (int LogsRead, int Replayed) Replay(ImportedTree tree, long snapshotZxid, string logDir, ILogger logger)
    {
        var logs = ZooKeeperFiles.Logs(logDir);
        // The log that holds the txn after the snapshot starts at or before it; older logs hold nothing newer.
        int first = logs.FindLastIndex(l => l.Zxid <= snapshotZxid);
        var needed = logs.Skip(Math.Max(first, 0)).ToList();
        long previous = snapshotZxid;
        int replayed = 0;
        for (int i = 0; i < needed.Count; i++)
        {
            var log = needed[i];
            foreach (var entry in ZooKeeperTxnLogReader.Read(log, isNewest: i == needed.Count - 1, w => logger.LogWarning("{Warning}", w)))
            {
                if (entry.Zxid <= snapshotZxid) continue;
                CheckFollows(previous, entry, log);
                ZooKeeperTxn txn;
                try
                {
                    txn = ZooKeeperTxn.Read(entry.Type, entry.Record);
                }
                catch (JuteException e)
                {
                    throw new ZooKeeperImportException(
                        $"{log.Path}: the txn at offset {entry.Offset} (zxid 0x{entry.Zxid:x}, type {entry.Type}) does not decode: {e.Message}", e);
                }
                tree.Apply(entry.SessionId, entry.Zxid, entry.Time, txn);
                previous = entry.Zxid;
                replayed++;
            }
        }
        return (needed.Count, replayed);
    }

    /// <summary>
    /// Zxids are an epoch (high 32 bits) and a counter: within an epoch every txn is logged, so the counter goes up by
    /// one; a new epoch restarts it.
    /// </summary>
    private static void CheckFollows(long previous, ZooKeeperLogEntry entry, ZooKeeperFile log)
    {
        if (entry.Zxid <= previous)
            throw new ZooKeeperImportException($"{log.Path}: the txn at offset {entry.Offset} has zxid 0x{entry.Zxid:x}, not above the previous 0x{previous:x}");
        if (entry.Zxid >> 32 == previous >> 32 && entry.Zxid != previous + 1)
            throw new ZooKeeperImportException(
                $"txns 0x{previous + 1:x} to 0x{entry.Zxid - 1:x} are missing: no log in {Path.GetDirectoryName(log.Path)} holds them " +
                $"(the next one found is in {log.Path} at offset {entry.Offset}). Was a log file removed?");
    }

    /// <summary>Keeper, like ZooKeeper, always has /zookeeper, /zookeeper/quota and /zookeeper/config.</summary>
    private static void AddMissingSystemNodes(ImportedTree tree)
    {
        foreach (var path in new[] { "/zookeeper", "/zookeeper/quota", "/zookeeper/config" })
            if (!tree.Nodes.ContainsKey(path)) tree.AddFromSnapshot(path, new ImportedNode { Data = [] });
    }

    private static void WarnAboutTtlNodes(ImportedTree tree, bool extendedTypes, ILogger logger)
    {
        if (extendedTypes) return;
        var ttl = tree.Nodes.FirstOrDefault(n => EphemeralType.Get(n.Value.EphemeralOwner, extendedTypes: true) == EphemeralKind.Ttl);
        if (ttl.Key is not null)
            logger.LogWarning("{Path} is a TTL node, but extendedTypesEnabled is off in Keeper's configuration: it will be " +
                "taken for an ephemeral. Set extendedTypesEnabled=true, as ZooKeeper had it", ttl.Key);
    }

    private static void CheckReadsBack(SnapshotStore store, KeeperOptions target, int nodes, string written)
    {
        var back = store.ReadLatestValid() ?? throw new ZooKeeperImportException($"{written} was written but does not read back");
        var r = new JuteReader(back.Body);
        int sessions = r.ReadInt();
        for (int i = 0; i < sessions; i++) { r.ReadLong(); r.ReadInt(); }
        var tree = DataTree.Deserialize(ref r, target.ExtendedTypesEnabled);
        if (tree.NodeCount != nodes)
            throw new ZooKeeperImportException($"{written} reads back with {tree.NodeCount} znodes instead of {nodes}");
    }
}
