using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Log;

/// <summary>
/// Re-encodes the records of a batch that survived compaction in part, through the protocol's batch builder: each
/// record keeps its original offset, and the batch keeps its base offset, base timestamp, last offset delta (so the
/// producer's sequence range stays readable), leader epoch, producer fields, attributes and codec. Its max timestamp
/// becomes the survivors' largest (a LogAppendTime batch keeps its append time).
/// </summary>
internal static class CompactedBatchWriter
{
    public static byte[] Write(RecordBatch original, IReadOnlyList<Record> records)
    {
        bool logAppendTime = original.TimestampType == TimestampType.LogAppendTime;
        var builder = new RecordBatchBuilder(original.Compression)
        {
            BaseOffset = original.BaseOffset,
            PartitionLeaderEpoch = original.PartitionLeaderEpoch,
            ProducerId = original.ProducerId,
            ProducerEpoch = original.ProducerEpoch,
            BaseSequence = original.BaseSequence,
            IsTransactional = original.IsTransactional,
            IsControl = original.IsControl,
            TimestampType = original.TimestampType,
            BaseTimestamp = original.BaseTimestamp,
            MaxTimestamp = logAppendTime ? original.MaxTimestamp : null,
            LastOffsetDelta = original.LastOffsetDelta,
        };
        foreach (var r in records)
            builder.Add((int)(r.Offset - original.BaseOffset), r.Timestamp, r.Key, r.Value, r.Headers);
        return builder.Build();
    }
}
