using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Records;

namespace Quill.Kafka.Protocol.Tests;

/// <summary>
/// Compressed data the broker accepts must be data every client can read: bytes after the compressed stream are
/// refused (librdkafka refuses them, so a batch stored with them would be unreadable to its consumers).
/// </summary>
public sealed class CompressionStrictnessTests
{
    private static readonly byte[] Data = [.. Enumerable.Range(0, 300).Select(i => (byte)(i % 7))];

    [Theory]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void Framed_data_with_bytes_after_it_is_refused(CompressionType type)
    {
        using var writer = new KafkaWriter();
        Compression.Compress(type, Data, writer);
        Assert.Equal(Data, Compression.Decompress(type, writer.ToArray()));
        foreach (byte[] extra in new byte[][] { [0], [1, 2, 3], [0, 0, 0, 5, 1] })
            Assert.Throws<KafkaProtocolException>(() => Compression.Decompress(type, (byte[])[.. writer.WrittenSpan, .. extra]));
    }

    [Fact]
    public void A_raw_snappy_block_must_end_where_its_elements_end_and_make_its_declared_length()
    {
        var block = new byte[Snappier.Snappy.GetMaxCompressedLength(Data.Length)];
        int n = Snappier.Snappy.Compress(Data, block);
        Assert.Equal(Data, Compression.Decompress(CompressionType.Snappy, block.AsMemory(0, n)));
        Assert.Throws<KafkaProtocolException>(() => Compression.Decompress(CompressionType.Snappy, (byte[])[.. block.AsSpan(0, n), 0]));
        Assert.Throws<KafkaProtocolException>(() => Compression.Decompress(CompressionType.Snappy, (byte[])[.. block.AsSpan(0, n), 0x04, 0x41]));
        // Every cut of the block is refused too.
        for (int length = 1; length < n; length++)
            Assert.Throws<KafkaProtocolException>(() => Compression.Decompress(CompressionType.Snappy, block.AsMemory(0, length)));
    }
}
