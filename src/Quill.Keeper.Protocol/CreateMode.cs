namespace Quill.Keeper.Protocol;

/// <summary>The create flags as the wire carries them (CreateMode).</summary>
public enum CreateMode
{
    Persistent = 0,
    Ephemeral = 1,
    PersistentSequential = 2,
    EphemeralSequential = 3,
    Container = 4,
    PersistentWithTtl = 5,
    PersistentSequentialWithTtl = 6,
}

public static class CreateModes
{
    public static bool IsValid(int flags) => flags is >= 0 and <= 6;
    public static bool IsEphemeral(this CreateMode m) => m is CreateMode.Ephemeral or CreateMode.EphemeralSequential;
    public static bool IsSequential(this CreateMode m) =>
        m is CreateMode.PersistentSequential or CreateMode.EphemeralSequential or CreateMode.PersistentSequentialWithTtl;
    public static bool IsContainer(this CreateMode m) => m is CreateMode.Container;
    public static bool IsTtl(this CreateMode m) => m is CreateMode.PersistentWithTtl or CreateMode.PersistentSequentialWithTtl;
}

/// <summary>ACL permission bits (ZooDefs.Perms).</summary>
[Flags]
public enum Perms
{
    None = 0,
    Read = 1,
    Write = 2,
    Create = 4,
    Delete = 8,
    Admin = 16,
    All = 31,
}
