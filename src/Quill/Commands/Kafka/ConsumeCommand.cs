using System.CommandLine;
using System.Text;
using Confluent.Kafka;

namespace Quill.Commands.Kafka;

/// <summary>
/// `quill consume`: kafka-console-consumer.sh. Prints each message's value (and with print.* properties its timestamp,
/// partition, offset and key) one per line, until --max-messages, --timeout-ms of silence, or Ctrl+C.
/// </summary>
public static class ConsumeCommand
{
    public static Command Create()
    {
        var cluster = new KafkaToolOptions("--consumer.config");
        var topic = new Option<string>("--topic") { Description = "The topic to read.", Required = true };
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "Start at the earliest message when there is no committed offset." };
        var group = new Option<string?>("--group") { Description = "Consumer group id (default: a fresh console-consumer-N group that commits nothing)." };
        var maxMessages = new Option<long?>("--max-messages") { Description = "Exit after this many messages." };
        var partition = new Option<int?>("--partition") { Description = "Read only this partition (no group assignment)." };
        var offset = new Option<string?>("--offset") { Description = "With --partition: earliest, latest or an offset (default latest)." };
        var timeoutMs = new Option<int?>("--timeout-ms") { Description = "Exit when no message arrives for this many ms." };
        var property = new Option<string[]>("--property")
        {
            Description = "Formatter settings: print.key, print.value, print.timestamp, print.partition, print.offset (true/false), key.separator, line.separator.",
            AllowMultipleArgumentsPerToken = false,
        };
        var consumerProperty = new Option<string[]>("--consumer-property") { Description = "A consumer setting key=value (librdkafka names); repeat for more.", AllowMultipleArgumentsPerToken = false };
        var isolation = new Option<string?>("--isolation-level") { Description = "read_committed or read_uncommitted (default)." };
        var command = new Command("consume", "Print messages from a topic (as kafka-console-consumer.sh).")
        {
            topic, fromBeginning, group, maxMessages, partition, offset, timeoutMs, property, consumerProperty, isolation,
        };
        cluster.AddTo(command);
        command.SetAction((parse, ct) => KafkaTool.RunAsync("consume", async () =>
        {
            var format = MessageFormat.From(KeyValues.Parse(parse.GetValue(property), "--property"));
            int? onlyPartition = parse.GetValue(partition);
            string? startOffset = parse.GetValue(offset);
            if (startOffset is not null && onlyPartition is null) throw new ToolException("--offset needs --partition");
            if (onlyPartition is not null && parse.GetValue(group) is not null) throw new ToolException("--partition and --group cannot be used together");

            string? groupId = parse.GetValue(group);
            var config = new ConsumerConfig(await cluster.ClientConfigAsync(parse, ct))
            {
                GroupId = groupId ?? $"console-consumer-{Random.Shared.Next(100_000)}",
                // The generated group is throwaway: it commits nothing, as in Kafka's console consumer.
                EnableAutoCommit = groupId is not null,
                AutoOffsetReset = parse.GetValue(fromBeginning) ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest,
                EnablePartitionEof = false,
            };
            if (parse.GetValue(isolation) is { } level) config.Set("isolation.level", level);
            foreach (var (key, value) in KeyValues.Parse(parse.GetValue(consumerProperty), "--consumer-property")) config.Set(key, value);

            string name = parse.GetValue(topic)!;
            long limit = parse.GetValue(maxMessages) ?? long.MaxValue;
            var silence = parse.GetValue(timeoutMs) is { } ms ? TimeSpan.FromMilliseconds(ms) : (TimeSpan?)null;
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
            if (onlyPartition is { } p)
                consumer.Assign(new TopicPartitionOffset(name, p, ParseOffset(startOffset, parse.GetValue(fromBeginning))));
            else
                consumer.Subscribe(name);

            long count = 0;
            var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = false };
            var lastMessage = DateTime.UtcNow;
            bool timedOut = false;
            try
            {
                while (count < limit && !ct.IsCancellationRequested)
                {
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                    if (result?.Message is null)
                    {
                        await output.FlushAsync(CancellationToken.None);
                        if (silence is { } s && DateTime.UtcNow - lastMessage > s)
                        {
                            timedOut = true;
                            break;
                        }
                        continue;
                    }
                    lastMessage = DateTime.UtcNow;
                    format.Write(output, result);
                    count++;
                }
            }
            finally
            {
                await output.FlushAsync(CancellationToken.None);
                consumer.Close();
            }
            if (timedOut) Console.Error.WriteLine($"Timed out after {silence!.Value.TotalMilliseconds:0} ms without a message.");
            Console.Error.WriteLine($"Processed a total of {count} messages");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Offset ParseOffset(string? text, bool fromBeginning) => text switch
    {
        null => fromBeginning ? Offset.Beginning : Offset.End,
        "earliest" => Offset.Beginning,
        "latest" => Offset.End,
        _ when long.TryParse(text, out long n) && n >= 0 => new Offset(n),
        _ => throw new ToolException($"--offset must be earliest, latest or a non-negative number, got '{text}'"),
    };
}
