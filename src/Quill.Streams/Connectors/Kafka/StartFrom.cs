namespace Quill.Streams.Connectors.Kafka;

/// <summary>Where a Kafka source starts reading each partition.</summary>
public enum StartFrom
{
    /// <summary>The first offset still in the log.</summary>
    Earliest,
    /// <summary>The end of the log when the job starts: only records written afterwards.</summary>
    Latest,
    /// <summary>The offset the job's consumer group last committed; the earliest where there is none.</summary>
    Committed,
}
