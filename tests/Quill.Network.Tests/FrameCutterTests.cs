using System.Buffers;
using System.Buffers.Binary;

namespace Quill.Network.Tests;

public sealed class FrameCutterTests
{
    private static byte[] Frame(int declared, int bodyBytes)
    {
        var bytes = new byte[4 + bodyBytes];
        BinaryPrimitives.WriteInt32BigEndian(bytes, declared);
        for (int i = 0; i < bodyBytes; i++) bytes[4 + i] = (byte)(i + 1);
        return bytes;
    }

    [Fact]
    public void A_frame_of_exactly_the_limit_is_cut_and_one_byte_more_is_refused()
    {
        var atLimit = new ReadOnlySequence<byte>(Frame(100, 100));
        Assert.Equal(FrameCut.Frame, FrameCutter.TryCut(ref atLimit, 100, out var frame, out int length));
        Assert.Equal(100, length);
        Assert.Equal(100, frame.Length);
        Assert.True(atLimit.IsEmpty);

        // Refused from the prefix alone, before any of the body has arrived.
        var over = new ReadOnlySequence<byte>(Frame(101, 0));
        Assert.Equal(FrameCut.TooBig, FrameCutter.TryCut(ref over, 100, out _, out length));
        Assert.Equal(101, length);
        Assert.Equal(4, over.Length); // nothing consumed
    }

    [Fact]
    public void A_negative_size_is_refused_and_an_empty_frame_is_a_frame()
    {
        var negative = new ReadOnlySequence<byte>(Frame(-1, 0));
        Assert.Equal(FrameCut.TooBig, FrameCutter.TryCut(ref negative, 100, out _, out int length));
        Assert.Equal(-1, length);

        var empty = new ReadOnlySequence<byte>(Frame(0, 0));
        Assert.Equal(FrameCut.Frame, FrameCutter.TryCut(ref empty, 100, out var frame, out _));
        Assert.True(frame.IsEmpty);
    }

    [Fact]
    public void Partial_prefixes_and_bodies_need_more()
    {
        var whole = Frame(10, 10);
        for (int cut = 0; cut < whole.Length; cut++)
        {
            var partial = new ReadOnlySequence<byte>(whole, 0, cut);
            Assert.Equal(FrameCut.NeedMore, FrameCutter.TryCut(ref partial, 100, out _, out _));
            Assert.Equal(cut, partial.Length); // nothing consumed
        }
    }

    [Fact]
    public void Frames_split_across_segments_are_cut_in_order()
    {
        var bytes = Frame(3, 3).Concat(Frame(5, 5)).ToArray();
        // One segment per byte: the worst a socket can deliver.
        var buffer = Segments(bytes);
        Assert.Equal(FrameCut.Frame, FrameCutter.TryCut(ref buffer, 8, out var first, out _));
        Assert.Equal(new byte[] { 1, 2, 3 }, first.ToArray());
        Assert.Equal(FrameCut.Frame, FrameCutter.TryCut(ref buffer, 8, out var second, out _));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, second.ToArray());
        Assert.Equal(FrameCut.NeedMore, FrameCutter.TryCut(ref buffer, 8, out _, out _));
    }

    private static ReadOnlySequence<byte> Segments(byte[] bytes)
    {
        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (int i = 1; i < bytes.Length; i++) last = last.Append(bytes.AsMemory(i, 1));
        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
