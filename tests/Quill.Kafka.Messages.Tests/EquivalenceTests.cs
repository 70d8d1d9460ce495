using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Messages.Tests;

/// <summary>
/// The generated classes against the interpreting codec, for every description and every version: the same bytes
/// both ways, the same values, the same defaults, and the same errors on bad bytes.
/// </summary>
public class EquivalenceTests
{
    private const int Seeds = 12;

    public static TheoryData<string, short> EveryVersion() => Descriptions.EveryVersion();

    [Theory]
    [MemberData(nameof(EveryVersion))]
    public void CodecBytesReadIntoTheSameValuesAndWriteBackTheSame(string name, short version)
    {
        var schema = Descriptions.ByName[name];
        for (int seed = 0; seed < Seeds; seed++)
        {
            var original = new Randoms(seed * 7919 + version).FillCodec(schema, version);
            byte[] bytes = Descriptions.Encode(schema, original, version);
            var typed = Descriptions.Read(schema, bytes, version);
            var decoded = Descriptions.Decode(schema, bytes, version);
            Assert.True(Compare.Difference(typed, decoded) is null, $"{name} v{version} seed {seed}: {Compare.Difference(typed, decoded)}");
            Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(Descriptions.Write(typed, version)));
        }
    }

    [Theory]
    [MemberData(nameof(EveryVersion))]
    public void TypedValuesWriteWhatTheCodecReadsAndWritesBack(string name, short version)
    {
        var schema = Descriptions.ByName[name];
        for (int seed = 0; seed < Seeds; seed++)
        {
            // Values also in fields the version does not carry: both leave them out.
            var typed = (IKafkaMessage)new Randoms(seed * 104729 + version).FillTyped(schema, version, alsoAbsent: seed % 2 == 1);
            byte[] bytes = Descriptions.Write(typed, version);
            var decoded = Descriptions.Decode(schema, bytes, version);
            Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(Descriptions.Encode(schema, decoded, version)));
            var again = Descriptions.Read(schema, bytes, version);
            Assert.True(Compare.Difference(again, decoded) is null, $"{name} v{version} seed {seed}: {Compare.Difference(again, decoded)}");
        }
    }

    [Theory]
    [MemberData(nameof(EveryVersion))]
    public void DefaultsAreTheDescriptionsDefaults(string name, short version)
    {
        var schema = Descriptions.ByName[name];
        var typed = Descriptions.New(schema);
        var value = schema.New();
        Assert.True(Compare.Difference(typed, value) is null, $"{name}: {Compare.Difference(typed, value)}");
        byte[] bytes = Descriptions.Encode(schema, value, version);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(Descriptions.Write(typed, version)));
        // Fields a version does not carry read as their defaults.
        var read = Descriptions.Read(schema, bytes, version);
        Assert.True(Compare.Difference(read, Descriptions.Decode(schema, bytes, version)) is null);
    }

    [Theory]
    [MemberData(nameof(EveryVersion))]
    public void TruncatedAndCorruptedBytesFailOrSucceedAlike(string name, short version)
    {
        var schema = Descriptions.ByName[name];
        var random = new Random(version * 31 + name.Length);
        for (int seed = 0; seed < 3; seed++)
        {
            byte[] bytes = Descriptions.Encode(schema, new Randoms(seed * 15485863 + version).FillCodec(schema, version), version);
            for (int length = 0; length < bytes.Length; length++) AssertSameOutcome(schema, version, bytes[..length]);
            for (int i = 0; i < 40 && bytes.Length > 0; i++)
            {
                byte[] corrupt = (byte[])bytes.Clone();
                int at = random.Next(corrupt.Length);
                corrupt[at] = random.Next(3) switch { 0 => 0xff, 1 => 0x00, _ => (byte)random.Next(256) };
                AssertSameOutcome(schema, version, corrupt);
            }
        }
    }

    private static void AssertSameOutcome(MessageSchema schema, short version, byte[] bytes)
    {
        string codec = Descriptions.Outcome(() =>
        {
            var value = Descriptions.Decode(schema, bytes, version, out int consumed);
            return (consumed, Descriptions.Encode(schema, value, version));
        });
        string typed = Descriptions.Outcome(() =>
        {
            var value = Descriptions.Read(schema, bytes, version, out int consumed);
            return (consumed, Descriptions.Write(value, version));
        });
        Assert.True(codec == typed, $"{schema.Name} v{version}, bytes {Convert.ToHexString(bytes)}\ncodec: {codec}\ntyped: {typed}");
    }

    [Fact]
    public void EveryDescriptionHasAClassAndEveryClassADescription()
    {
        var classes = typeof(IKafkaMessage).Assembly.GetTypes()
            .Where(t => t.IsPublic && typeof(IKafkaMessage).IsAssignableFrom(t) && !t.IsInterface)
            .Select(t => t.Name).Order().ToList();
        Assert.Equal(Descriptions.ByName.Keys.Select(n => n + "Data").Order().ToList(), classes);
    }
}
