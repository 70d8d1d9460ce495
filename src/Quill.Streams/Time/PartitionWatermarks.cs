namespace Quill.Streams.Time;

/// <summary>
/// The event time of one source task over its partitions (Flink's per-split watermark outputs, combined): each
/// partition's watermark follows its highest timestamp; the task's is the minimum over the partitions that are active.
/// With an idleness, a partition with no record for that long (on the task's clock, from the start or its last record)
/// is idle and left out, until its next record; when all are idle the task is idle. The task's watermark never goes
/// back: a partition active again with older timestamps holds it where it is until it catches up.
/// </summary>
internal sealed class PartitionWatermarks<TPartition>(IEnumerable<TPartition> partitions, Func<long, long> watermarkFor,
    long? idlenessMs, long now) where TPartition : notnull
{
    private readonly Dictionary<TPartition, Partition> _partitions = partitions.ToDictionary(p => p, _ => new Partition { LastRecordAt = now });

    private sealed class Partition
    {
        public long MaxTimestamp = long.MinValue;
        public long LastRecordAt;
    }

    /// <summary>The last watermark passed on (long.MinValue before the first).</summary>
    public long Current { get; private set; } = long.MinValue;

    public WatermarkStatus Status { get; private set; } = WatermarkStatus.Active;

    /// <summary>A record came: true if that makes an idle task active again (to be said before the record goes on).</summary>
    public bool OnRecord(TPartition partition, long timestamp, long now)
    {
        var state = _partitions[partition];
        state.LastRecordAt = now;
        state.MaxTimestamp = Math.Max(state.MaxTimestamp, timestamp);
        if (Status == WatermarkStatus.Active) return false;
        Status = WatermarkStatus.Active;
        return true;
    }

    /// <summary>
    /// After a record, or on the task's loop when nothing came: the status (if it changed) and the watermark (if it
    /// rose) to pass on, in that order.
    /// </summary>
    public (WatermarkStatus? Status, long? Watermark) Update(long now)
    {
        long min = long.MaxValue;
        bool anyActive = false;
        foreach (var partition in _partitions.Values)
        {
            if (idlenessMs is { } idle && now - partition.LastRecordAt >= idle) continue;
            anyActive = true;
            min = Math.Min(min, partition.MaxTimestamp);
        }
        var status = anyActive ? WatermarkStatus.Active : WatermarkStatus.Idle;
        WatermarkStatus? changed = status == Status ? null : status;
        Status = status;
        // No record yet in some active partition: no watermark.
        if (!anyActive || min == long.MinValue) return (changed, null);
        long watermark = watermarkFor(min);
        if (watermark <= Current) return (changed, null);
        Current = watermark;
        return (changed, watermark);
    }
}
