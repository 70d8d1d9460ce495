using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;

namespace Quill.Network.Tests;

/// <summary>Frames longer than a reader buffers, read through <see cref="FrameAssembler"/> on a real listener.</summary>
public sealed class FrameAssemblerTests
{
    private const int MaxFrame = 8 << 20;

    /// <summary>Answers every frame with its length and SHA-256, reading as the broker and Keeper do.</summary>
    private sealed class DigestHandler : IConnectionHandler
    {
        /// <summary>The most bytes the connection's reader held at once.</summary>
        public long MaxBuffered;

        public async Task RunAsync(NetworkConnection connection)
        {
            var output = new FrameOutput();
            var sender = output.SendAsync(connection.Output);
            var input = connection.Input;
            while (true)
            {
                var result = await input.ReadAsync();
                if (result.IsCanceled) break;
                var buffer = result.Buffer;
                MaxBuffered = Math.Max(MaxBuffered, buffer.Length);
                while (FrameCutter.TryCut(ref buffer, MaxFrame, out var frame, out _) == FrameCut.Frame) Answer(output, frame.ToArray());
                if (FrameAssembler.MustAssemble(buffer, MaxFrame, out int length))
                {
                    var whole = new byte[length];
                    if (!await FrameAssembler.ReadAsync(input, buffer, whole, CancellationToken.None)) break;
                    Answer(output, whole);
                    continue;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted) break;
            }
            output.Complete();
            await sender;
        }

        private static void Answer(FrameOutput output, byte[] body)
        {
            var answer = new byte[4 + 4 + 32];
            BinaryPrimitives.WriteInt32BigEndian(answer, answer.Length - 4);
            BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(4), body.Length);
            SHA256.HashData(body, answer.AsSpan(8));
            output.Write(answer);
        }
    }

    private static byte[] Frame(byte[] body)
    {
        var bytes = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, body.Length);
        body.CopyTo(bytes, 4);
        return bytes;
    }

    [Fact]
    public async Task Frames_longer_than_the_reader_buffers_arrive_whole_and_in_order_between_small_ones()
    {
        await using var listener = await NetworkListener.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), backlog: 16, NullLogger.Instance);
        var handler = new DigestHandler();
        listener.Start(handler);
        await using var client = await FramedClientConnection.ConnectAsync(listener.Endpoint, 1024, CancellationToken.None);
        int[] sizes = [1, 3 << 20, 0, FrameAssembler.AssembleAbove + 1, 17, FrameAssembler.AssembleAbove * 4 + 3, 5, MaxFrame];
        var bodies = sizes.Select(size => RandomNumberGenerator.GetBytes(size)).ToArray();
        // All in one send: the large frames start and end at arbitrary points of the transport's reads.
        await client.SendAsync(bodies.SelectMany(Frame).ToArray(), CancellationToken.None);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        foreach (var body in bodies)
        {
            var answer = (await client.ReadFrameAsync(timeout.Token)).ToArray();
            Assert.Equal(body.Length, BinaryPrimitives.ReadInt32BigEndian(answer));
            Assert.Equal(SHA256.HashData(body), answer[4..]);
        }
        // The 8 MiB frame never sat whole in the reader: it was copied out as it came.
        Assert.InRange(handler.MaxBuffered, 1, 4 * FrameAssembler.AssembleAbove);
    }

    [Fact]
    public void Only_an_allowed_frame_that_is_not_whole_and_longer_than_the_threshold_is_assembled()
    {
        static ReadOnlySequence<byte> Prefix(int length, int bodyBytes)
        {
            var bytes = new byte[4 + bodyBytes];
            BinaryPrimitives.WriteInt32BigEndian(bytes, length);
            return new ReadOnlySequence<byte>(bytes);
        }
        int big = FrameAssembler.AssembleAbove + 1;
        Assert.True(FrameAssembler.MustAssemble(Prefix(big, 10), MaxFrame, out int length));
        Assert.Equal(big, length);
        Assert.False(FrameAssembler.MustAssemble(Prefix(big, big), MaxFrame, out _)); // whole already: cut it
        Assert.False(FrameAssembler.MustAssemble(Prefix(FrameAssembler.AssembleAbove, 10), MaxFrame, out _)); // short: wait for it
        Assert.False(FrameAssembler.MustAssemble(Prefix(big, 10), big - 1, out _)); // over the limit: FrameCutter refuses it
        Assert.False(FrameAssembler.MustAssemble(Prefix(-1, 10), MaxFrame, out _));
        Assert.False(FrameAssembler.MustAssemble(new ReadOnlySequence<byte>(new byte[3]), MaxFrame, out _));
    }
}
