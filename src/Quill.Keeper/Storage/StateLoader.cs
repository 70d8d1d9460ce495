using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Storage;

/// <summary>
/// Builds the state (tree and sessions) from what is on disk: the newest valid snapshot, then every logged txn after
/// it. A standalone server does this once at start; an ensemble member again after its log was truncated.
/// </summary>
public static class StateLoader
{
    /// <summary>Loads into <paramref name="sessions"/> and returns the tree; <see cref="TxnLog.Recover"/> runs here.</summary>
    public static DataTree Load(SnapshotStore snapshots, TxnLog txnLog, SessionTracker sessions, bool extendedTypes, ILogger log)
    {
        DataTree tree;
        if (snapshots.ReadLatestValid() is { } snap)
        {
            tree = Decode(snap.Body, sessions, extendedTypes, out int count);
            log.LogInformation("Loaded snapshot at zxid 0x{Zxid:x}: {Nodes} znodes, {Sessions} sessions", snap.Zxid, tree.NodeCount, count);
        }
        else tree = new DataTree(extendedTypes);
        txnLog.Recover(tree.LastZxid, entry => Apply(tree, sessions, entry));
        return tree;
    }

    /// <summary>A snapshot body (see <see cref="StateImage.Encode"/>): the sessions go into <paramref name="sessions"/>.</summary>
    public static DataTree Decode(byte[] body, SessionTracker sessions, bool extendedTypes, out int sessionCount)
    {
        var r = new JuteReader(body);
        sessionCount = r.ReadInt();
        for (int i = 0; i < sessionCount; i++) sessions.Add(r.ReadLong(), r.ReadInt());
        return DataTree.Deserialize(ref r, extendedTypes);
    }

    /// <summary>Applies one logged txn to the state, as the request processor would have.</summary>
    public static void Apply(DataTree tree, SessionTracker sessions, TxnEntry entry)
    {
        var txn = Txn.Decode((OpCode)entry.Type, entry.Body);
        switch (txn)
        {
            case CreateSessionTxn cs:
                if (sessions.Get(entry.SessionId) is null) sessions.Add(entry.SessionId, cs.Timeout);
                tree.Apply(entry.Zxid, entry.Time, entry.SessionId, txn);
                break;
            case CloseSessionTxn:
                tree.Apply(entry.Zxid, entry.Time, entry.SessionId, txn);
                sessions.Remove(entry.SessionId);
                break;
            case MultiTxn m: tree.ApplyMulti(entry.Zxid, entry.Time, entry.SessionId, m); break;
            default: tree.Apply(entry.Zxid, entry.Time, entry.SessionId, txn); break;
        }
    }
}
