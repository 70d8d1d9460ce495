using System.Threading.Channels;
using Quill.Streams.Runtime;

namespace Quill.Streams.Cluster;

/// <summary>A keyed stage's mailboxes in this process, seen without their element type: where data channels deliver.</summary>
internal interface IEdgeReceiver
{
    /// <summary>Reads one channel's frames into <paramref name="target"/>'s mailbox until the sender's end, or the connection's.</summary>
    Task ReceiveAsync(Stream stream, int target, int sender, CancellationToken abort);
}

/// <summary>
/// The receiving end of data channels into one keyed stage: each frame becomes the element the sender wrote, put into
/// the target task's mailbox as a local sender would (the task cannot tell). A full mailbox stops the reading, and TCP
/// then holds the sender back. A connection that closes before the sender's end fails the generation.
/// </summary>
internal sealed class EdgeReceiver<T>(Channel<StreamElement<T>>[] mailboxes) : IEdgeReceiver
{
    public async Task ReceiveAsync(Stream stream, int target, int sender, CancellationToken abort)
    {
        var frames = new FrameReader(new BufferedStream(stream, 64 << 10));
        var mailbox = mailboxes[target].Writer;
        while (await frames.NextAsync(abort) is { } frame)
        {
            var element = ElementCodec.Read<T>(frame.Span);
            if (element.Sender != sender) throw new InvalidDataException($"subtask {sender}'s channel carried an element of subtask {element.Sender}");
            await mailbox.WriteAsync(element, abort);
            if (element.Kind == ElementKind.End) return;
        }
        throw new IOException($"the channel from subtask {sender} closed before its end (its process left or failed)");
    }
}
