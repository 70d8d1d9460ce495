using System.Buffers.Binary;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Log;

/// <summary>
/// A transaction marker (Kafka's EndTransactionMarker): a control batch (attributes transactional | control) of
/// one record whose key is version int16 0 and type int16 (0 ABORT, 1 COMMIT) and whose value is version int16 0
/// and the coordinator epoch int32. Written by the log when the transaction coordinator ends a transaction.
/// </summary>
public readonly record struct ControlMarker(bool Commit, int CoordinatorEpoch)
{
    public const short AbortType = 0, CommitType = 1;

    /// <summary>The marker's batch at <paramref name="offset"/>, ready to append.</summary>
    public static byte[] Build(long offset, long producerId, short producerEpoch, bool commit, int coordinatorEpoch,
        int leaderEpoch, long timestamp)
    {
        var key = new byte[4];
        BinaryPrimitives.WriteInt16BigEndian(key.AsSpan(2), commit ? CommitType : AbortType);
        var value = new byte[6];
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(2), coordinatorEpoch);
        return new RecordBatchBuilder
        {
            BaseOffset = offset,
            PartitionLeaderEpoch = leaderEpoch,
            ProducerId = producerId,
            ProducerEpoch = producerEpoch,
            BaseSequence = -1,
            IsTransactional = true,
            IsControl = true,
        }.Add(timestamp, key, value).Build();
    }

    /// <summary>
    /// The marker in a control batch, or null if its first record is another control type (Kafka has a few) or
    /// unreadable.
    /// </summary>
    public static ControlMarker? Parse(ReadOnlyMemory<byte> batchBytes)
    {
        try
        {
            var records = RecordBatch.Read(batchBytes).ReadRecords();
            if (records.Count == 0 || records[0].Key is not { Length: >= 4 } key) return null;
            short type = BinaryPrimitives.ReadInt16BigEndian(key.Span[2..]);
            if (type is not (AbortType or CommitType)) return null;
            int coordinatorEpoch = records[0].Value is { Length: >= 6 } value ? BinaryPrimitives.ReadInt32BigEndian(value.Span[2..]) : -1;
            return new ControlMarker(type == CommitType, coordinatorEpoch);
        }
        catch (KafkaProtocolException)
        {
            return null;
        }
    }
}
