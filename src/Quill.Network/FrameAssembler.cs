using System.Buffers;
using System.IO.Pipelines;

namespace Quill.Network;

/// <summary>
/// A connection's reader keeps an unfinished frame in its buffer until the rest arrives, so waiting for a frame of
/// 100 MiB (Kafka's socket.request.max.bytes) would hold 100 MiB per connection in the network layer. Frames longer
/// than <see cref="AssembleAbove"/> are instead copied out piece by piece as they arrive, into memory the handler
/// gives (the request's own copy, which it makes anyway), and the reader's buffer stays small.
/// </summary>
public static class FrameAssembler
{
    /// <summary>Frames past this are assembled rather than waited for whole.</summary>
    public const int AssembleAbove = 128 * 1024;

    /// <summary>
    /// True when <paramref name="buffer"/> starts with the prefix of an allowed frame that is not whole yet and is too
    /// long to wait for: read it with <see cref="ReadAsync"/>. A size outside 0..max is <see cref="FrameCutter.TryCut"/>'s
    /// to refuse first, before any of the body is read.
    /// </summary>
    public static bool MustAssemble(in ReadOnlySequence<byte> buffer, int maxFrameBytes, out int length) =>
        FrameCutter.TryPeekLength(buffer, out length)
        && length > AssembleAbove && length <= maxFrameBytes
        && buffer.Length - FrameCutter.PrefixLength < length;

    /// <summary>
    /// Copies the body of the frame whose prefix starts <paramref name="buffer"/> (the last buffer read from
    /// <paramref name="input"/>, not yet advanced past) into <paramref name="body"/>, which is exactly as long as the
    /// frame, reading on as needed. Advances <paramref name="input"/> past the frame: the caller must not advance past
    /// <paramref name="buffer"/> again. False when the peer closed or the read was cancelled before the frame was whole.
    /// </summary>
    public static async ValueTask<bool> ReadAsync(PipeReader input, ReadOnlySequence<byte> buffer, Memory<byte> body, CancellationToken ct)
    {
        buffer = buffer.Slice(FrameCutter.PrefixLength);
        int copied = 0;
        while (true)
        {
            int take = (int)Math.Min(buffer.Length, body.Length - copied);
            buffer.Slice(0, take).CopyTo(body.Span[copied..]);
            copied += take;
            // Consumed, not merely examined: the transport may read on.
            input.AdvanceTo(buffer.GetPosition(take));
            if (copied == body.Length) return true;
            var result = await input.ReadAsync(ct).ConfigureAwait(false);
            buffer = result.Buffer;
            if (result.IsCanceled || (result.IsCompleted && buffer.Length < body.Length - copied))
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                return false;
            }
        }
    }
}
