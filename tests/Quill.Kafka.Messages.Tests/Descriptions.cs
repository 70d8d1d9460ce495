using System.Reflection;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.CoordinatorRecords;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Messages.Tests;

/// <summary>Every description the generator covers, with its generated class, and generic ways to use that class.</summary>
internal static class Descriptions
{
    public static readonly IReadOnlyDictionary<string, MessageSchema> ByName = BuildIndex();

    private static Dictionary<string, MessageSchema> BuildIndex()
    {
        var index = new Dictionary<string, MessageSchema>(StringComparer.Ordinal);
        foreach (var api in KafkaApis.All)
        {
            index.Add(api.Request.Name, api.Request);
            index.Add(api.Response.Name, api.Response);
        }
        foreach (var schema in CoordinatorRecordSchemas.All) index.Add(schema.Name, schema);
        return index;
    }

    /// <summary>Every description and version, as theory rows.</summary>
    public static TheoryData<string, short> EveryVersion()
    {
        var data = new TheoryData<string, short>();
        foreach (var schema in ByName.Values)
            for (short v = schema.ValidVersions.Min; v <= schema.ValidVersions.Max; v++) data.Add(schema.Name, v);
        return data;
    }

    public static Type ClassOf(MessageSchema schema) =>
        typeof(IKafkaMessage).Assembly.GetType($"Quill.Kafka.Messages.{schema.Name}Data", throwOnError: true)!;

    public static string PropertyName(Field field) => char.ToUpperInvariant(field.Name[0]) + field.Name[1..];

    public static PropertyInfo Property(Type type, Field field) =>
        type.GetProperty(PropertyName(field)) ?? throw new InvalidOperationException($"{type.Name} has no property for {field.Name}");

    public static IKafkaMessage New(MessageSchema schema) => (IKafkaMessage)Activator.CreateInstance(ClassOf(schema))!;

    /// <summary>Reads with the generated class; asserts that every byte was read.</summary>
    public static IKafkaMessage Read(MessageSchema schema, byte[] body, short version)
    {
        var value = Read(schema, body, version, out int consumed);
        Assert.True(consumed == body.Length, $"{schema.Name}Data v{version} read {consumed} of {body.Length} bytes");
        return value;
    }

    /// <summary>Reads with the generated class (through <see cref="IKafkaMessage{TSelf}.Read"/>), saying how many bytes it took.</summary>
    public static IKafkaMessage Read(MessageSchema schema, byte[] body, short version, out int consumed)
    {
        var method = typeof(Descriptions).GetMethod(nameof(ReadGeneric), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(ClassOf(schema));
        object?[] arguments = [body, version, 0];
        try
        {
            var value = (IKafkaMessage)method.Invoke(null, arguments)!;
            consumed = (int)arguments[2]!;
            return value;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    private static T ReadGeneric<T>(byte[] body, short version, out int consumed) where T : class, IKafkaMessage<T>
    {
        var reader = new KafkaReader(body);
        var value = T.Read(ref reader, version);
        consumed = reader.Position;
        return value;
    }

    public static byte[] Write(IKafkaMessage message, short version)
    {
        using var writer = new KafkaWriter();
        message.Write(writer, version);
        return writer.ToArray();
    }

    public static byte[] Encode(MessageSchema schema, StructValue value, short version)
    {
        using var writer = new KafkaWriter();
        MessageCodec.Encode(schema, version, value, writer);
        return writer.ToArray();
    }

    /// <summary>Decodes with the codec; asserts that every byte was read.</summary>
    public static StructValue Decode(MessageSchema schema, byte[] body, short version)
    {
        var value = Decode(schema, body, version, out int consumed);
        Assert.True(consumed == body.Length, $"{schema.Name} v{version}: the codec read {consumed} of {body.Length} bytes");
        return value;
    }

    public static StructValue Decode(MessageSchema schema, byte[] body, short version, out int consumed)
    {
        var reader = new KafkaReader(body);
        var value = MessageCodec.Decode(schema, version, ref reader);
        consumed = reader.Position;
        return value;
    }

    /// <summary>What decoding some bytes came to: the bytes read and their encoding again, or the error text.</summary>
    public static string Outcome(Func<(int Consumed, byte[] Encoded)> decodeAndEncode)
    {
        try
        {
            var (consumed, encoded) = decodeAndEncode();
            return $"ok, read {consumed} bytes, wrote {Convert.ToHexString(encoded)}";
        }
        catch (KafkaProtocolException e)
        {
            return "error " + e.Message;
        }
    }
}
