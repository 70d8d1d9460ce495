using System.Text.Json;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Quill.Streams.Streamiz.Bench;

/// <summary>
/// The topologies of `quill perf streams`, written with Streamiz: the stateless map (each line to its value and
/// length, JSON, keyed by the line), the word count (a running count per word in an in-memory store, written as
/// decimal text keyed by the word) and the windowed word count (a count per word and tumbling event-time window, one
/// final result per word and window, written as "COUNT WINDOW_END_MS" keyed by the word), with the output formats of
/// the Quill.Streams side.
/// </summary>
public static class BenchTopologies
{
    public sealed record Options(string BootstrapServers, string Input, string Output, string ApplicationId, int Threads, bool ExactlyOnce,
        long WindowMs = 1000, long GraceMs = 1000);

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

    /// <summary>
    /// Counts per word in tumbling windows of <paramref name="windowMs"/> on the records' timestamps, records up to
    /// <paramref name="graceMs"/> behind the task's stream time still counted (Kafka Streams' grace, the Quill.Streams
    /// side's bounded out-of-orderness), in an in-memory window store. Without the suppress, Streamiz would send every
    /// update of a window's count on (one output per word occurrence); with it, only each window's final count, once
    /// the task's stream time passes the window's end plus the grace: one record per word and window, as Flink's
    /// window operator emits. The suppress buffer and the window store keep their default changelog topics, as the
    /// word count's store does.
    /// </summary>
    public static Topology WindowedWordCount(string input, string output, long windowMs, long graceMs)
    {
        var builder = new StreamBuilder();
        builder.Stream<string, string>(input)
            .FlatMapValues<string>((line, _) => (line ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .GroupBy<string>((_, word, _) => word)
            .WindowedBy(TumblingWindowOptions.Of(TimeSpan.FromMilliseconds(windowMs), TimeSpan.FromMilliseconds(graceMs)))
            .Count(InMemoryWindows.As<string, long>("word-window-counts", TimeSpan.FromMilliseconds(windowMs))
                .WithKeySerdes<StringSerDes>().WithValueSerdes<Int64SerDes>())
            .Suppress(SuppressedBuilder.UntilWindowClose<Windowed<string>, long>(TimeSpan.FromMilliseconds(graceMs), StrictBufferConfig.Unbounded())
                .WithKeySerdes(new TimeWindowedSerDes<string>(new StringSerDes(), windowMs))
                .WithValueSerdes(new Int64SerDes()))
            .ToStream()
            .Map<string, string>((window, count, _) => KeyValuePair.Create(window.Key, $"{count} {window.Window.EndMs}"))
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
        var built = topology switch
        {
            "map" => Map(options.Input, options.Output),
            "window" => WindowedWordCount(options.Input, options.Output, options.WindowMs, options.GraceMs),
            _ => WordCount(options.Input, options.Output),
        };
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
