using Quill.Broker.Log;

namespace Quill.Broker.Partitions;

/// <summary>
/// A partition this broker leads: its log, the leader epoch stamped on every batch it appends, and a signal that
/// fetches waiting for data (long polls) await. The log has its own lock; the signal is lock-free.
/// </summary>
public sealed class Partition(string topic, int index, Guid topicId, PartitionLog log, int leaderEpoch)
{
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _hasWaiters;

    public string Topic { get; } = topic;
    public int Index { get; } = index;
    public Guid TopicId { get; } = topicId;
    public PartitionLog Log { get; } = log;
    public int LeaderEpoch { get; set; } = leaderEpoch;

    /// <summary>With one replica, everything appended is committed: the high watermark is the log end.</summary>
    public long HighWatermark => Log.LogEndOffset;

    /// <summary>Appends a produce request's batches (see <see cref="PartitionLog.Append"/>) and wakes waiting fetches.</summary>
    public LogAppendInfo Append(ReadOnlyMemory<byte> records)
    {
        var info = Log.Append(records, LeaderEpoch);
        if (!info.IsDuplicate) NotifyAppended();
        return info;
    }

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
