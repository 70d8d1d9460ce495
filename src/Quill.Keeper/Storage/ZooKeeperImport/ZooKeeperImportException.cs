namespace Quill.Keeper.Storage.ZooKeeperImport;

/// <summary>ZooKeeper's data cannot be imported; the message names the file (and offset) at fault and what is wrong.</summary>
public sealed class ZooKeeperImportException(string message, Exception? inner = null) : Exception(message, inner);
