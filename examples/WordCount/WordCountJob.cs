using Quill.Streams.Api;
using Quill.Streams.Serialization;

namespace Quill.Streams.Examples.WordCount;

/// <summary>
/// Splits each input value on whitespace and writes, for every word, its running count: key the word (UTF-8), value
/// the count as decimal text. The counts live in the keyed tasks' state: with a checkpoint directory they survive a
/// restart (at least once: records after the last checkpoint are counted again, unless the job is exactly-once), without
/// one they start from zero. The source and the counts have uids, so a changed job started from a savepoint of this one
/// finds them.
/// </summary>
public static class WordCountJob
{
    public static void Define(StreamJob job, string input, string output)
    {
        job.FromKafka(input, Serdes.String).Uid("lines")
            .FlatMap(line => (line ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Map(word => new WordCount(word, 1))
            .KeyBy(count => count.Word)
            .Reduce((a, b) => new WordCount(a.Word, a.Count + b.Count)).Uid("counts")
            .ToKafka(output, c => c.Word, Serdes.String, c => c.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Serdes.String);
    }
}

public sealed record WordCount(string Word, long Count);
