using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Tests;

public class PrimitiveTests
{
    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(-1, new byte[] { 0x01 })]
    [InlineData(1, new byte[] { 0x02 })]
    [InlineData(63, new byte[] { 0x7e })]
    [InlineData(-64, new byte[] { 0x7f })]
    [InlineData(64, new byte[] { 0x80, 0x01 })]
    [InlineData(300, new byte[] { 0xd8, 0x04 })]
    [InlineData(int.MaxValue, new byte[] { 0xfe, 0xff, 0xff, 0xff, 0x0f })]
    [InlineData(int.MinValue, new byte[] { 0xff, 0xff, 0xff, 0xff, 0x0f })]
    public void ZigzagVarints(int value, byte[] encoded)
    {
        using var writer = new KafkaWriter();
        writer.WriteVarint(value);
        Assert.Equal(encoded, writer.ToArray());
        Assert.Equal(encoded.Length, KafkaWriter.SizeOfVarint(value));
        var reader = new KafkaReader(encoded);
        Assert.Equal(value, reader.ReadVarint());
        Assert.True(reader.AtEnd);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    [InlineData(1_700_000_000_000L)]
    public void ZigzagVarlongs(long value)
    {
        using var writer = new KafkaWriter();
        writer.WriteVarlong(value);
        Assert.Equal(KafkaWriter.SizeOfVarlong(value), writer.Length);
        var reader = new KafkaReader(writer.ToArray());
        Assert.Equal(value, reader.ReadVarlong());
    }

    [Fact]
    public void Unsigned_varint_rejects_overlong_and_overflowing_input()
    {
        byte[] sixBytes = [0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(sixBytes).ReadUnsignedVarint());
        byte[] overflow = [0xff, 0xff, 0xff, 0xff, 0x1f];
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(overflow).ReadUnsignedVarint());
        byte[] unterminated = [0x80, 0x80];
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(unterminated).ReadUnsignedVarint());
    }

    [Fact]
    public void Strings_classic_and_compact()
    {
        using var writer = new KafkaWriter();
        writer.WriteString("ab", compact: false);
        writer.WriteString(null, compact: false);
        writer.WriteString("ab", compact: true);
        writer.WriteString(null, compact: true);
        writer.WriteString("", compact: true);
        Assert.Equal(new byte[] { 0, 2, 97, 98, 0xff, 0xff, 3, 97, 98, 0, 1 }, writer.ToArray());
        var reader = new KafkaReader(writer.ToArray());
        Assert.Equal("ab", reader.ReadString(false, false));
        Assert.Null(reader.ReadString(false, true));
        Assert.Equal("ab", reader.ReadString(true, false));
        Assert.Null(reader.ReadString(true, true));
        Assert.Equal("", reader.ReadString(true, false));
    }

    [Fact]
    public void Null_where_not_nullable_is_an_error()
    {
        byte[] nullString = [0xff, 0xff];
        var error = Assert.Throws<KafkaProtocolException>(() => new KafkaReader(nullString).ReadString(false, nullable: false));
        Assert.Contains("offset 0", error.Message);
    }

    [Fact]
    public void Bytes_and_arrays_classic_and_compact()
    {
        using var writer = new KafkaWriter();
        writer.WriteBytes([9, 8], compact: false);
        writer.WriteNullBytes(compact: true);
        writer.WriteArrayLength(-1, compact: false);
        writer.WriteArrayLength(2, compact: true);
        Assert.Equal(new byte[] { 0, 0, 0, 2, 9, 8, 0, 0xff, 0xff, 0xff, 0xff, 3 }, writer.ToArray());
    }

    [Fact]
    public void Lengths_are_capped_by_the_bytes_left()
    {
        byte[] hugeString = [0x7f, 0xff, 1, 2];
        Assert.Contains("exceeds", Assert.Throws<KafkaProtocolException>(() => new KafkaReader(hugeString).ReadString(false, false)).Message);
        byte[] hugeArray = [0x7f, 0xff, 0xff, 0xff];
        Assert.Contains("cannot fit", Assert.Throws<KafkaProtocolException>(() => new KafkaReader(hugeArray).ReadArrayLength(false, false, 1)).Message);
        byte[] negativeBytes = [0xff, 0xff, 0xff, 0xfe];
        Assert.Contains("negative", Assert.Throws<KafkaProtocolException>(() => new KafkaReader(negativeBytes).ReadBytes(false, true)).Message);
        byte[] fourInts = [0, 0, 0, 4, 0, 0, 0, 1];
        Assert.Throws<KafkaProtocolException>(() => new KafkaReader(fourInts).ReadArrayLength(false, false, 4));
    }

    [Fact]
    public void Uuid_is_sixteen_big_endian_bytes()
    {
        var id = Guid.Parse("01020304-0506-0708-090a-0b0c0d0e0f10");
        using var writer = new KafkaWriter();
        writer.WriteUuid(id);
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray(), writer.ToArray());
        Assert.Equal(id, new KafkaReader(writer.ToArray()).ReadUuid());
    }

    [Fact]
    public void Fixed_width_integers_are_big_endian()
    {
        using var writer = new KafkaWriter();
        writer.WriteInt16(-2);
        writer.WriteUInt16(0xfffe);
        writer.WriteInt32(0x01020304);
        writer.WriteUInt32(0xfffffffe);
        writer.WriteInt64(-2);
        writer.WriteFloat64(1.5);
        var reader = new KafkaReader(writer.ToArray());
        Assert.Equal(-2, reader.ReadInt16());
        Assert.Equal(0xfffe, reader.ReadUInt16());
        Assert.Equal(0x01020304, reader.ReadInt32());
        Assert.Equal(0xfffffffe, reader.ReadUInt32());
        Assert.Equal(-2, reader.ReadInt64());
        Assert.Equal(1.5, reader.ReadFloat64());
        Assert.Equal(new byte[] { 0xff, 0xfe }, writer.WrittenSpan[..2].ToArray());
    }
}
