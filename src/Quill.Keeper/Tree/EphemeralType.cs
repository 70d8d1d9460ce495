namespace Quill.Keeper.Tree;

/// <summary>
/// ZooKeeper folds container and TTL nodes into the ephemeralOwner field: a container has the owner
/// 0x8000000000000000; with extended types enabled, a TTL node has 0xFF in the top byte and its TTL in the low bits.
/// Clients see these values in Stat, so Keeper uses the same encoding.
/// </summary>
public enum EphemeralKind { Void, Normal, Container, Ttl }

public static class EphemeralType
{
    public const long ContainerOwner = long.MinValue;
    private const long ExtendedMask = unchecked((long)0xFF00000000000000UL);
    public const long MaxTtl = 0x00FFFFFFFFFFL; // 40 bits of milliseconds, as ZooKeeper allows

    public static long TtlOwner(long ttl) => ExtendedMask | ttl;

    public static EphemeralKind Get(long owner, bool extendedTypes)
    {
        if (extendedTypes && (owner & ExtendedMask) == ExtendedMask) return EphemeralKind.Ttl;
        if (owner == ContainerOwner) return EphemeralKind.Container;
        return owner == 0 ? EphemeralKind.Void : EphemeralKind.Normal;
    }

    public static long Ttl(long owner) => owner & ~ExtendedMask;
}
