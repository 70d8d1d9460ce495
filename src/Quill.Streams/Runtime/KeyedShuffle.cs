using System.Threading.Channels;
using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>
/// The end of an upstream task's chain in front of a keyed stage: each record goes to the mailbox of the task that owns
/// its key; watermarks, barriers and the end go to every mailbox, tagged with this sender so each receiver can combine
/// its inputs. Writing waits while a mailbox is full (backpressure).
/// </summary>
internal sealed class KeyedShuffle<TKey, T>(Func<T, TKey> keySelector, IReadOnlyList<ChannelWriter<StreamElement<T>>> mailboxes,
    int sender, CancellationToken abort) : IStreamInput<T> where TKey : notnull
{
    public ValueTask RecordAsync(T value, long timestamp) =>
        mailboxes[KeySlots.SlotOf(keySelector(value), mailboxes.Count)].WriteAsync(StreamElement<T>.Record(value, timestamp, sender), abort);

    public ValueTask WatermarkAsync(long watermark) => BroadcastAsync(ElementKind.Watermark, watermark);
    public ValueTask WatermarkStatusAsync(WatermarkStatus status) => BroadcastAsync(ElementKind.WatermarkStatus, (long)status);
    public ValueTask BarrierAsync(long checkpointId) => BroadcastAsync(ElementKind.Barrier, checkpointId);
    public ValueTask EndAsync() => BroadcastAsync(ElementKind.End, 0);

    /// <summary>Ticks stay in their task: the keyed stage has its own clocks.</summary>
    public ValueTask ProcessingTimeAsync(long now) => ValueTask.CompletedTask;

    private async ValueTask BroadcastAsync(ElementKind kind, long marker)
    {
        foreach (var mailbox in mailboxes) await mailbox.WriteAsync(StreamElement<T>.Control(kind, marker, sender), abort);
    }
}
