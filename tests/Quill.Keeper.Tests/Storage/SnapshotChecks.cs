using Microsoft.Extensions.Logging.Abstractions;
using Quill.Keeper.Protocol;
using Quill.Keeper.Storage;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Tests.Storage;

/// <summary>
/// Checks that every snapshot in a data directory is the state at its zxid exactly: loading it equals replaying the
/// whole txn log from the start up to that zxid (the log is never purged in these tests), and loading it then
/// replaying the log after it (what recovery does) equals replaying the whole log.
/// </summary>
internal static class SnapshotChecks
{
    /// <summary>Checks every valid snapshot in <paramref name="dataDir"/>; returns how many there were.</summary>
    public static int AssertAllExact(string dataDir, string logDir, bool extendedTypes)
    {
        using var scratch = new TempDirectory();
        foreach (var file in Directory.GetFiles(dataDir, StorageFiles.SnapshotPrefix + "*").Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(scratch.Path, Path.GetFileName(file)));
        var log = ReadLog(logDir);
        var (full, fullSessions) = Replay(new DataTree(extendedTypes), [], log);
        var store = new SnapshotStore(scratch.Path, NullLogger.Instance);
        int checkedCount = 0;
        while (store.ReadLatestValid() is { } snapshot)
        {
            var (tree, sessions) = Load(snapshot.Body, extendedTypes);
            Assert.Equal(snapshot.Zxid, tree.LastZxid);
            var (atZxid, sessionsAtZxid) = Replay(new DataTree(extendedTypes), [], log.Where(e => e.Zxid <= snapshot.Zxid));
            Assert.Equal(Encode(atZxid), Encode(tree));
            Assert.Equal(sessionsAtZxid.Order(), sessions.Order());

            var (recovered, recoveredSessions) = Replay(tree, sessions, log.Where(e => e.Zxid > snapshot.Zxid));
            Assert.Equal(Encode(full), Encode(recovered));
            Assert.Equal(fullSessions.Order(), recoveredSessions.Order());
            File.Delete(Path.Combine(scratch.Path, StorageFiles.SnapshotFileName(snapshot.Zxid)));
            checkedCount++;
        }
        return checkedCount;
    }

    public static List<TxnEntry> ReadLog(string logDir)
    {
        using var log = Txns.Open(logDir);
        return log.ReadFrom(0).ToList();
    }

    public static (DataTree Tree, HashSet<long> Sessions) Load(byte[] body, bool extendedTypes)
    {
        var r = new JuteReader(body);
        var sessions = new HashSet<long>();
        int count = r.ReadInt();
        for (int i = 0; i < count; i++) { sessions.Add(r.ReadLong()); r.ReadInt(); }
        return (DataTree.Deserialize(ref r, extendedTypes), sessions);
    }

    /// <summary>Applies txns as KeeperServer's recovery does.</summary>
    public static (DataTree Tree, HashSet<long> Sessions) Replay(DataTree tree, HashSet<long> sessions, IEnumerable<TxnEntry> log)
    {
        foreach (var entry in log)
        {
            var txn = Txn.Decode((OpCode)entry.Type, entry.Body);
            if (txn is MultiTxn m) tree.ApplyMulti(entry.Zxid, entry.Time, entry.SessionId, m);
            else tree.Apply(entry.Zxid, entry.Time, entry.SessionId, txn);
            if (txn is CreateSessionTxn) sessions.Add(entry.SessionId);
            if (txn is CloseSessionTxn) sessions.Remove(entry.SessionId);
        }
        return (tree, sessions);
    }

    /// <summary>
    /// The tree as a snapshot encodes it, its nodes put in path order: a snapshot lists them in a walk of the tree's
    /// child sets, whose order depends on how each tree was built, so equal trees compare equal only sorted.
    /// </summary>
    public static byte[] Encode(DataTree tree)
    {
        var w = new JuteWriter();
        tree.Serialize(w);
        var r = new JuteReader(w.ToArray());
        var sorted = new JuteWriter();
        sorted.WriteLong(r.ReadLong());
        int count = r.ReadInt();
        sorted.WriteInt(count);
        var nodes = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            var node = new JuteWriter();
            string path = r.ReadString()!;
            node.WriteString(path); node.WriteBuffer(r.ReadBuffer()); Acl.WriteList(node, Acl.ReadList(ref r).ToList());
            for (int j = 0; j < 5; j++) node.WriteLong(r.ReadLong());
            for (int j = 0; j < 3; j++) node.WriteInt(r.ReadInt());
            node.WriteLong(r.ReadLong());
            nodes.Add(path, node.ToArray());
        }
        foreach (var bytes in nodes.Values) sorted.WriteRaw(bytes);
        return sorted.ToArray();
    }
}
