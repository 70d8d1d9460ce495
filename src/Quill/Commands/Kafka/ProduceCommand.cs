using System.CommandLine;
using System.Text;
using Confluent.Kafka;

namespace Quill.Commands.Kafka;

/// <summary>`quill produce`: kafka-console-producer.sh: one message per line of stdin, optionally keyed.</summary>
public static class ProduceCommand
{
    private static readonly string[] Codecs = ["none", "gzip", "snappy", "lz4", "zstd"];

    public static Command Create()
    {
        var cluster = new KafkaToolOptions("--producer.config");
        var topic = new Option<string>("--topic") { Description = "The topic to write to.", Required = true };
        var property = new Option<string[]>("--property")
        {
            Description = "Line reader settings: parse.key=true, key.separator=<sep> (default tab), ignore.error=true.",
            AllowMultipleArgumentsPerToken = false,
        };
        var producerProperty = new Option<string[]>("--producer-property") { Description = "A producer setting key=value (librdkafka names); repeat for more.", AllowMultipleArgumentsPerToken = false };
        var compression = new Option<string?>("--compression-codec")
        {
            Description = "none, gzip, snappy, lz4 or zstd (the flag alone means gzip).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var acks = new Option<string?>("--request-required-acks") { Description = "acks: 0, 1 or -1/all (default -1)." };
        var sync = new Option<bool>("--sync") { Description = "Wait for each message to be acknowledged before sending the next." };
        var command = new Command("produce", "Write lines from stdin as messages to a topic (as kafka-console-producer.sh).")
        {
            topic, property, producerProperty, compression, acks, sync,
        };
        cluster.AddTo(command);
        command.SetAction((parse, ct) => KafkaTool.RunAsync("produce", async () =>
        {
            var reader = KeyValues.Parse(parse.GetValue(property), "--property").ToDictionary(p => p.Key, p => p.Value);
            bool parseKey = reader.GetValueOrDefault("parse.key") is "true";
            bool ignoreError = reader.GetValueOrDefault("ignore.error") is "true";
            string separator = reader.GetValueOrDefault("key.separator") ?? "\t";
            if (separator.Length == 0) throw new ToolException("key.separator must not be empty");

            var config = new ProducerConfig(await cluster.ClientConfigAsync(parse, ct))
            {
                Acks = Acks.All,
                LingerMs = 5,
                MessageTimeoutMs = 120_000, // Kafka's delivery.timeout.ms default
            };
            if (parse.GetResult(compression) is not null)
            {
                string codec = parse.GetValue(compression) ?? "gzip";
                if (!Codecs.Contains(codec)) throw new ToolException($"--compression-codec must be one of {string.Join(", ", Codecs)}");
                config.Set("compression.type", codec);
            }
            if (parse.GetValue(acks) is { } a) config.Set("acks", a);
            foreach (var (key, value) in KeyValues.Parse(parse.GetValue(producerProperty), "--producer-property")) config.Set(key, value);

            string name = parse.GetValue(topic)!;
            using var producer = new ProducerBuilder<byte[]?, byte[]>(config).Build();
            int failed = 0, lineNumber = 0;
            Error? firstError = null;
            Action<DeliveryReport<byte[]?, byte[]>> onDelivery = report =>
            {
                if (!report.Error.IsError) return;
                if (Interlocked.Increment(ref failed) == 1) firstError = report.Error;
            };
            bool sendSync = parse.GetValue(sync);
            using var stdin = new StreamReader(Console.OpenStandardInput(), Encoding.UTF8);
            while (await stdin.ReadLineAsync(ct) is { } line)
            {
                lineNumber++;
                byte[]? key = null;
                string value = line;
                if (parseKey)
                {
                    int at = line.IndexOf(separator, StringComparison.Ordinal);
                    if (at < 0)
                    {
                        if (ignoreError) { key = null; }
                        else throw new ToolException($"No key separator found on line number {lineNumber}: '{line}'", ExitCodes.Failed);
                    }
                    else
                    {
                        key = Encoding.UTF8.GetBytes(line[..at]);
                        value = line[(at + separator.Length)..];
                    }
                }
                var message = new Message<byte[]?, byte[]> { Key = key, Value = Encoding.UTF8.GetBytes(value) };
                if (sendSync)
                {
                    try { await producer.ProduceAsync(name, message, ct); }
                    catch (ProduceException<byte[]?, byte[]> e) { onDelivery(e.DeliveryResult.ToReport(e.Error)); }
                    continue;
                }
                while (true)
                {
                    try
                    {
                        producer.Produce(name, message, onDelivery);
                        break;
                    }
                    catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(100));
                    }
                }
            }
            // Everything read has been handed over; wait for the acknowledgements (or errors) of all of it.
            while (producer.Flush(TimeSpan.FromSeconds(1)) > 0) ct.ThrowIfCancellationRequested();
            if (failed > 0)
            {
                Console.Error.WriteLine($"quill produce: {failed} of {lineNumber} message(s) not delivered: {KafkaErrors.Describe(firstError!)}");
                return ExitCodes.Failed;
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static DeliveryReport<byte[]?, byte[]> ToReport(this DeliveryResult<byte[]?, byte[]> result, Error error) => new()
    {
        Topic = result.Topic, Partition = result.Partition, Offset = result.Offset, Message = result.Message, Error = error,
    };
}
