namespace Quill.Streams.Time;

/// <summary>A window of event time: [<see cref="Start"/>, <see cref="End"/>) in ms since the epoch.</summary>
public readonly record struct TimeWindow(long Start, long End)
{
    /// <summary>The last timestamp in the window: its results carry it, and its timer fires when the watermark reaches it.</summary>
    public long MaxTimestamp => End - 1;

    /// <summary>Overlapping or touching (Flink's TimeWindow.intersects): two such session windows merge.</summary>
    public bool Intersects(TimeWindow other) => Start <= other.End && End >= other.Start;

    /// <summary>The smallest window holding both.</summary>
    public TimeWindow Cover(TimeWindow other) => new(Math.Min(Start, other.Start), Math.Max(End, other.End));
}
