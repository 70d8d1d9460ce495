using Quill.Broker.Log;

namespace Quill.Broker.Partitions;

/// <summary>
/// A partition this broker leads: its log, the leader epoch stamped on every batch it appends, and a signal that
/// fetches waiting for data (long polls) await. The log has its own lock; the signal is lock-free. A transaction
/// marker written to the log (however it is called) also fires the signal: it moves the last stable offset that
/// read_committed fetches wait on.
/// </summary>
public sealed class Partition
{
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _hasWaiters;

    public Partition(string topic, int index, Guid topicId, PartitionLog log, int leaderEpoch)
    {
        Topic = topic;
        Index = index;
        TopicId = topicId;
        Log = log;
        LeaderEpoch = leaderEpoch;
        log.ControlMarkerAppended += NotifyAppended;
    }

    public string Topic { get; }
    public int Index { get; }
    public Guid TopicId { get; }
    public PartitionLog Log { get; }
    public int LeaderEpoch { get; set; }

    /// <summary>With one replica, everything appended is committed: the high watermark is the log end.</summary>
    public long HighWatermark => Log.LogEndOffset;

    /// <summary>Appends a produce request's batches (see <see cref="PartitionLog.Append"/>) and wakes waiting fetches.</summary>
    public LogAppendInfo Append(ReadOnlyMemory<byte> records)
    {
        var info = Log.Append(records, LeaderEpoch);
        if (!info.IsDuplicate) NotifyAppended();
        return info;
    }

    /// <summary>Writes a transaction marker with this partition's leader epoch (see <see cref="PartitionLog.AppendControlMarker"/>); waiting fetches wake.</summary>
    public long AppendControlMarker(long producerId, short producerEpoch, bool commit, int coordinatorEpoch) =>
        Log.AppendControlMarker(producerId, producerEpoch, commit, coordinatorEpoch, LeaderEpoch);

    /// <summary>Completes at the next append (or at once if one happened since the caller last looked).</summary>
    public Task WhenAppended()
    {
        Volatile.Write(ref _hasWaiters, 1);
        return Volatile.Read(ref _appended).Task;
    }

    /// <summary>Wakes every waiting fetch; also used when the partition goes away so they answer at once.</summary>
    public void NotifyAppended()
    {
        if (Interlocked.Exchange(ref _hasWaiters, 0) == 0) return;
        var fired = Interlocked.Exchange(ref _appended, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        fired.TrySetResult();
    }

    public override string ToString() => $"{Topic}-{Index}";
}
