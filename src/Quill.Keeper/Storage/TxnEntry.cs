namespace Quill.Keeper.Storage;

/// <summary>
/// One transaction as the log stores it. The header fields mirror ZooKeeper's TxnHeader
/// (zxid, client session, client xid, time, op type); <see cref="Body"/> is the lead's serialized txn,
/// opaque to storage.
/// </summary>
public sealed record TxnEntry(long Zxid, long SessionId, int Cxid, long Time, int Type, byte[] Body);
