using System.Text.Json;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Quill.Streams.Streamiz.Bench;

/// <summary>
/// The two topologies of `quill perf streams`, written with Streamiz: the stateless map (each line to its value and
/// length, JSON, keyed by the line) and the word count (a running count per word in an in-memory store, written as
/// decimal text keyed by the word), with the output formats of the Quill.Streams side.
/// </summary>
public static class BenchTopologies
{
    public sealed record Options(string BootstrapServers, string Input, string Output, string ApplicationId, int Threads, bool ExactlyOnce);

    public sealed record ValueLength(string Value, int Length);

    public static Topology Map(string input, string output)
    {
        var builder = new StreamBuilder();
        builder.Stream<string, string>(input)
            .Map<string, string>((_, value, _) => KeyValuePair.Create(value ?? "", JsonSerializer.Serialize(new ValueLength(value ?? "", (value ?? "").Length))))
            .To(output);
        return builder.Build();
    }

    public static Topology WordCount(string input, string output)
    {
        var builder = new StreamBuilder();
        builder.Stream<string, string>(input)
            .FlatMapValues<string>((line, _) => (line ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .GroupBy<string>((_, word, _) => word)
            .Count(InMemory.As<string, long>("word-counts").WithKeySerdes<StringSerDes>().WithValueSerdes<Int64SerDes>())
            .ToStream()
            .MapValues<string>((count, _) => count.ToString())
            .To(output);
        return builder.Build();
    }

    public static StreamConfig<StringSerDes, StringSerDes> Config(Options options) => new()
    {
        ApplicationId = options.ApplicationId,
        BootstrapServers = options.BootstrapServers,
        NumStreamThreads = options.Threads,
        Guarantee = options.ExactlyOnce ? ProcessingGuarantee.EXACTLY_ONCE : ProcessingGuarantee.AT_LEAST_ONCE,
        AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest,
    };

    public static async Task RunAsync(string topology, Options options, CancellationToken stop)
    {
        var built = topology == "map" ? Map(options.Input, options.Output) : WordCount(options.Input, options.Output);
        var stream = new KafkaStream(built, Config(options));
        try
        {
            await stream.StartAsync(stop);
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            stream.Dispose();
        }
    }
}
