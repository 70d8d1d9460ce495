namespace Quill.Keeper.Protocol;

/// <summary>Watch event types (Watcher.Event.EventType).</summary>
public enum EventType
{
    None = -1,
    NodeCreated = 1,
    NodeDeleted = 2,
    NodeDataChanged = 3,
    NodeChildrenChanged = 4,
    DataWatchRemoved = 5,
    ChildWatchRemoved = 6,
    PersistentWatchRemoved = 7,
}

/// <summary>Session states carried in watch events (Watcher.Event.KeeperState).</summary>
public enum KeeperState
{
    Disconnected = 0,
    SyncConnected = 3,
    AuthFailed = 4,
    ConnectedReadOnly = 5,
    SaslAuthenticated = 6,
    Expired = -112,
    Closed = 7,
}

/// <summary>Which watches removeWatches / checkWatches address (Watcher.WatcherType).</summary>
public enum WatcherType
{
    Children = 1,
    Data = 2,
    Any = 3,
    Persistent = 4,
    PersistentRecursive = 5,
}

/// <summary>addWatch modes (AddWatchMode).</summary>
public enum AddWatchMode
{
    Persistent = 0,
    PersistentRecursive = 1,
}
