using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.State;
using Streamiz.Kafka.Net.Stream;
using Streamiz.Kafka.Net.Table;

namespace Quill.Streamiz.Compat.Tests;

/// <summary>Two Streamiz applications as their users write them, nothing changed for Quill.</summary>
public static class StreamizApps
{
    /// <summary>Stateless: each line to (line, "LINE:length"), keyed by the line.</summary>
    public static Topology Uppercase(string input, string output)
    {
        var builder = new StreamBuilder();
        builder.Stream<string, string>(input)
            .Filter((_, line, _) => !string.IsNullOrEmpty(line))
            .Map<string, string>((_, line, _) => KeyValuePair.Create(line, $"{line.ToUpperInvariant()}:{line.Length}"))
            .To(output);
        return builder.Build();
    }

    public const string CountStore = "word-counts";

    /// <summary>
    /// Word count: re-keyed by word (a repartition topic), counted in a state store (its changelog topic), the running
    /// count written as decimal text.
    /// </summary>
    public static Topology WordCount(string input, string output)
    {
        var builder = new StreamBuilder();
        builder.Stream<string, string>(input)
            .FlatMapValues<string>((line, _) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .GroupBy<string>((_, word, _) => word)
            .Count(InMemory.As<string, long>(CountStore).WithKeySerdes<StringSerDes>().WithValueSerdes<Int64SerDes>())
            .ToStream()
            .MapValues<string>((count, _) => count.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .To(output);
        return builder.Build();
    }

    public static StreamConfig<StringSerDes, StringSerDes> Config(string bootstrap, string applicationId, bool exactlyOnce) => new()
    {
        ApplicationId = applicationId,
        BootstrapServers = bootstrap,
        Guarantee = exactlyOnce ? ProcessingGuarantee.EXACTLY_ONCE : ProcessingGuarantee.AT_LEAST_ONCE,
        AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest,
        CommitIntervalMs = 200,
    };
}
