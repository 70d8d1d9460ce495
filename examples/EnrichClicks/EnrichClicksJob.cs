using Quill.Streams.Api;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Serialization;

namespace Quill.Streams.Examples.EnrichClicks;

/// <summary>
/// A stream-table join: reads clicks (key: the user, value: the page) and a table of user names (a compacted topic,
/// key: the user, value: the name; a null value deletes the user), and writes each click with the user's name at that
/// moment, key the user, value JSON <c>{"User":..., "Name":..., "Page":...}</c> (Name null for a user the table does
/// not have: a left join). Clicks with no key are skipped. The table is loaded before the first click is read.
/// </summary>
public static class EnrichClicksJob
{
    public static void Define(StreamJob job, string clicks, string users, string output)
    {
        var names = job.TableFromKafka<string, string?>(users, Serdes.String!, Serdes.String);
        job.FromKafka([clicks], StartFrom.Earliest, Serdes.String, Serdes.String)
            .Filter(click => click.Key is not null)
            .KeyBy(click => click.Key!)
            .LeftJoin(names, (click, name) => new EnrichedClick(click.Key!, name, click.Value))
            .ToKafka(output, c => c.User, Serdes.String!, Serdes.Json<EnrichedClick>());
    }
}

/// <summary>A click with its user's name (null if the user is not in the table).</summary>
public sealed record EnrichedClick(string User, string? Name, string? Page);
