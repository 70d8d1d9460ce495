using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Records;

/// <summary>The codec in attribute bits 0-2 of a record batch.</summary>
public enum CompressionType : byte
{
    None = 0,
    Gzip = 1,
    Snappy = 2,
    Lz4 = 3,
    Zstd = 4,
}

/// <summary>
/// Compresses and decompresses the records section of a batch as Kafka's clients do: gzip streams; snappy in
/// xerial's framing (what the Java client writes; raw snappy blocks, as librdkafka may write, are read too);
/// the standard LZ4 frame format with independent 64 KiB blocks; standard zstd frames. Decompression stops
/// with a <see cref="KafkaProtocolException"/> past <c>maxSize</c> bytes so a small batch cannot expand without bound.
/// </summary>
public static class Compression
{
    public const int DefaultMaxDecompressedSize = 64 * 1024 * 1024;

    private static ReadOnlySpan<byte> XerialMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];

    public static void Compress(CompressionType type, ReadOnlySpan<byte> data, KafkaWriter output)
    {
        switch (type)
        {
            case CompressionType.None:
                output.WriteRaw(data);
                break;
            case CompressionType.Gzip:
                using (var stream = new GZipStream(new WriterStream(output), CompressionLevel.Fastest, leaveOpen: false))
                    stream.Write(data);
                break;
            case CompressionType.Snappy:
                WriteXerialSnappy(data, output);
                break;
            case CompressionType.Lz4:
                LZ4Frame.Encode(data, output, new LZ4EncoderSettings
                {
                    ChainBlocks = false,
                    BlockSize = 64 * 1024,
                    ContentChecksum = false,
                    BlockChecksum = false,
                    CompressionLevel = LZ4Level.L00_FAST,
                });
                break;
            case CompressionType.Zstd:
                using (var compressor = new ZstdSharp.Compressor(3))
                    output.WriteRaw(compressor.Wrap(data));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), $"unknown compression type {(int)type}");
        }
    }

    /// <summary>Decompresses a records section; throws <see cref="KafkaProtocolException"/> for corrupt input.</summary>
    public static byte[] Decompress(CompressionType type, ReadOnlyMemory<byte> data, int maxSize = DefaultMaxDecompressedSize)
    {
        try
        {
            return type switch
            {
                CompressionType.None => data.ToArray(),
                CompressionType.Gzip => ReadAll(new GZipStream(new ReadOnlyMemoryStream(data), CompressionMode.Decompress), maxSize),
                CompressionType.Snappy => DecompressSnappy(data.Span, maxSize),
                CompressionType.Lz4 => ReadAll(LZ4Stream.Decode(new ReadOnlyMemoryStream(data), 0, false), maxSize),
                CompressionType.Zstd => ReadAll(new ZstdSharp.DecompressionStream(new ReadOnlyMemoryStream(data)), maxSize),
                _ => throw new KafkaProtocolException($"unknown compression type {(int)type}"),
            };
        }
        catch (KafkaProtocolException)
        {
            throw;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException or ArgumentException
                                      or IndexOutOfRangeException or NotSupportedException or OverflowException or EndOfStreamException
                                      || e.GetType().Namespace?.StartsWith("ZstdSharp", StringComparison.Ordinal) == true
                                      || e.GetType().Namespace?.StartsWith("Snappier", StringComparison.Ordinal) == true
                                      || e.GetType().Namespace?.StartsWith("K4os", StringComparison.Ordinal) == true)
        {
            throw new KafkaProtocolException($"corrupt {type} data: {e.Message}", e);
        }
    }

    private static void WriteXerialSnappy(ReadOnlySpan<byte> data, KafkaWriter output)
    {
        output.WriteRaw(XerialMagic);
        output.WriteInt32(1); // version
        output.WriteInt32(1); // minimum compatible version
        const int blockSize = 32 * 1024; // the Java client's block size
        do
        {
            var block = data[..Math.Min(blockSize, data.Length)];
            data = data[block.Length..];
            int sizeAt = output.Reserve(4);
            var target = output.GetSpan(Snappier.Snappy.GetMaxCompressedLength(block.Length));
            int written = Snappier.Snappy.Compress(block, target);
            output.Advance(written);
            output.PatchInt32(sizeAt, written);
        } while (!data.IsEmpty);
    }

    private static byte[] DecompressSnappy(ReadOnlySpan<byte> data, int maxSize)
    {
        // As librdkafka decides it: xerial framing needs its 16-byte header and at least one block length after it.
        if (data.Length <= 20 || !data[..8].SequenceEqual(XerialMagic)) return SnappyBlock(data, maxSize, alreadyOut: 0).ToArray();
        data = data[16..];
        var output = new ArrayBufferWriter<byte>();
        while (!data.IsEmpty)
        {
            if (data.Length < 4) throw new KafkaProtocolException("snappy: truncated block length");
            int length = BinaryPrimitives.ReadInt32BigEndian(data);
            if (length < 0 || length > data.Length - 4) throw new KafkaProtocolException($"snappy: block length {length} exceeds the {data.Length - 4} bytes left");
            var block = SnappyBlock(data.Slice(4, length), maxSize, output.WrittenCount);
            output.Write(block);
            data = data[(4 + length)..];
        }
        return output.WrittenSpan.ToArray();
    }

    private static byte[] SnappyBlock(ReadOnlySpan<byte> block, int maxSize, int alreadyOut)
    {
        int length = Snappier.Snappy.GetUncompressedLength(block);
        if (length < 0 || length > maxSize - alreadyOut) throw new KafkaProtocolException($"snappy: block expands past the {maxSize} byte limit");
        CheckSnappyElements(block, length);
        var output = new byte[length];
        int written = Snappier.Snappy.Decompress(block, output);
        if (written != length) throw new KafkaProtocolException("snappy: block shorter than its declared length");
        return output;
    }

    /// <summary>
    /// Walks a snappy block's elements (literals and copies) and requires them to make exactly the declared length
    /// and to end exactly where the block ends. The decoder used here stops once its output is full and ignores what
    /// follows, while librdkafka refuses such a block: a batch stored with bytes after its snappy data would be
    /// acknowledged and then unreadable to those consumers.
    /// </summary>
    private static void CheckSnappyElements(ReadOnlySpan<byte> block, int declared)
    {
        int i = 0;
        while (i < block.Length && (block[i] & 0x80) != 0) i++;
        i++; // the last byte of the length varint
        long produced = 0;
        while (i < block.Length)
        {
            byte tag = block[i++];
            long length, offset = 0;
            switch (tag & 3)
            {
                case 0: // literal: length-1 in the tag's upper 6 bits, or in 1-4 little-endian bytes after it
                    length = (tag >> 2) + 1;
                    if (length > 60)
                    {
                        int extra = (int)length - 60;
                        if (extra > block.Length - i) throw new KafkaProtocolException("snappy: truncated literal length");
                        length = 0;
                        for (int k = extra - 1; k >= 0; k--) length = (length << 8) | block[i + k];
                        length++;
                        i += extra;
                    }
                    if (length > block.Length - i) throw new KafkaProtocolException("snappy: literal runs past the block's end");
                    i += (int)length;
                    break;
                case 1: // copy with a 1-byte offset
                    if (i >= block.Length) throw new KafkaProtocolException("snappy: truncated copy");
                    length = ((tag >> 2) & 7) + 4;
                    offset = ((tag >> 5) << 8) | block[i++];
                    break;
                case 2: // copy with a 2-byte offset
                    if (2 > block.Length - i) throw new KafkaProtocolException("snappy: truncated copy");
                    length = (tag >> 2) + 1;
                    offset = BinaryPrimitives.ReadUInt16LittleEndian(block[i..]);
                    i += 2;
                    break;
                default: // copy with a 4-byte offset
                    if (4 > block.Length - i) throw new KafkaProtocolException("snappy: truncated copy");
                    length = (tag >> 2) + 1;
                    offset = BinaryPrimitives.ReadUInt32LittleEndian(block[i..]);
                    i += 4;
                    break;
            }
            if ((tag & 3) != 0 && (offset == 0 || offset > produced)) throw new KafkaProtocolException($"snappy: copy offset {offset} reaches before the start");
            produced += length;
            if (produced > declared) throw new KafkaProtocolException($"snappy: the block makes more than its declared {declared} bytes");
        }
        if (produced != declared) throw new KafkaProtocolException($"snappy: the block makes {produced} bytes, not its declared {declared}");
    }

    private static byte[] ReadAll(Stream stream, int maxSize)
    {
        using (stream)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            int length = 0;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (length >= maxSize) throw new KafkaProtocolException($"data expands past the {maxSize} byte limit");
                        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, maxSize + 1L));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    int read = stream.Read(buffer, length, buffer.Length - length);
                    if (read == 0) break;
                    length += read;
                    if (length > maxSize) throw new KafkaProtocolException($"data expands past the {maxSize} byte limit");
                }
                return buffer.AsSpan(0, length).ToArray();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>A read-only stream over memory, so decompressors read the input without a copy.</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> data) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, data.Length - _position);
            data.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A write-only stream appending to a <see cref="KafkaWriter"/>.</summary>
    private sealed class WriterStream(KafkaWriter writer) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Write(byte[] buffer, int offset, int count) => writer.WriteRaw(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer) => writer.WriteRaw(buffer);
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
