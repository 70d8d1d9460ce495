namespace Quill.Streams.State;

/// <summary>When a state entry's time to live starts again (Flink's StateTtlConfig.UpdateType).</summary>
public enum StateTtlUpdateType
{
    /// <summary>When it is written (the default).</summary>
    OnCreateAndWrite,

    /// <summary>When it is written or read.</summary>
    OnReadAndWrite,
}

/// <summary>
/// Time to live of a keyed state of any kind (Flink's StateTtlConfig, with its defaults: processing time, expired
/// values never returned): an entry not written (or read, with <see cref="StateTtlUpdateType.OnReadAndWrite"/>) for
/// <see cref="Ttl"/> on the task's clock is gone. A map state's entries and a list state's elements expire one by one;
/// a reducing state's value as a whole (each add writes it). Expired entries are removed
/// when they are next accessed and left out of checkpoints; an entry's last write time is in the checkpoint, so its time
/// to live goes on across a restore. Adding or removing a TTL on a checkpointed state changes its format: start that
/// state afresh (a new name).
/// </summary>
public sealed class StateTtlConfig
{
    public StateTtlConfig(TimeSpan ttl, StateTtlUpdateType updateType = StateTtlUpdateType.OnCreateAndWrite)
    {
        if (ttl <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "must be positive");
        Ttl = ttl;
        UpdateType = updateType;
    }

    public TimeSpan Ttl { get; }
    public StateTtlUpdateType UpdateType { get; }

    internal bool IsExpired(long stampedAt, long now) => now - stampedAt >= (long)Ttl.TotalMilliseconds;
}

/// <summary>A value with the time (ms, the task's clock) its time to live started.</summary>
internal readonly record struct Stamped<T>(T Value, long At);
