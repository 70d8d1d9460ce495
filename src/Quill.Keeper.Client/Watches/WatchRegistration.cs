namespace Quill.Keeper.Client.Watches;

internal enum WatchKind
{
    /// <summary>getData: a data watch when the node exists.</summary>
    Data,
    /// <summary>exists: a data watch when the node exists, an exist watch when it does not.</summary>
    Exist,
    Child,
    Persistent,
    PersistentRecursive,
}

/// <summary>A watcher to remember once the request that sets it succeeds (ZooKeeper sets watches only then).</summary>
internal sealed record WatchRegistration(WatchKind Kind, string ClientPath, Action<WatchedEvent> Watcher);
