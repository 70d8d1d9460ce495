using Quill.Streams.Api;
using Quill.Streams.Serialization;

namespace Quill.Streams.Examples.SeedJob;

/// <summary>The smallest job: reads strings, maps each to its value and length, writes that as JSON, keyed by the value.</summary>
public static class SeedJob
{
    public static void Define(StreamJob job, string input, string output)
    {
        job.FromKafka(input, Serdes.String)
            .Map(value => new ValueLength(value ?? "", (value ?? "").Length))
            .ToKafka(output, v => v.Value, Serdes.String, Serdes.Json<ValueLength>());
    }
}

public sealed record ValueLength(string Value, int Length);
