using Quill.Streams.Api;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Examples.EnrichClicks;

/// <summary>
/// A stream-table join: reads clicks (key: the user, value: the page) and a table of user names (a compacted topic,
/// key: the user, value: the name; a null value deletes the user), and writes each click with the user's name, key the
/// user, value JSON <c>{"User":..., "Name":..., "Page":...}</c> (Name null for a user the table does not have: a left
/// join). Clicks with no key are skipped.
/// <para>
/// By default the name is the one the table has when the click is handled (the table is loaded before the first click
/// is read). With <paramref name="outOfOrderness"/> the join is by event time (a temporal join): each click gets the
/// name its user had at the click's timestamp, both topics' timestamps being up to that much out of order; a table
/// with no new records for <paramref name="tableIdleness"/> (default 5 s) no longer holds event time back.
/// </para>
/// </summary>
public static class EnrichClicksJob
{
    public static void Define(StreamJob job, string clicks, string users, string output, TimeSpan? outOfOrderness = null, TimeSpan? tableIdleness = null)
    {
        if (outOfOrderness is not { } bound)
        {
            var names = job.TableFromKafka<string, string?>(users, Serdes.String!, Serdes.String);
            Clicks(job, clicks, null)
                .LeftJoin(names, (click, name) => new EnrichedClick(click.Key!, name, click.Value))
                .ToKafka(output, c => c.User, Serdes.String!, Serdes.Json<EnrichedClick>());
            return;
        }
        var versioned = job.TableFromKafka(users, Serdes.String!, Serdes.String,
            WatermarkStrategy<KafkaRecord<string, string?>>.ForBoundedOutOfOrderness(bound).WithIdleness(tableIdleness ?? TimeSpan.FromSeconds(5)));
        Clicks(job, clicks, WatermarkStrategy<KafkaRecord<string?, string?>>.ForBoundedOutOfOrderness(bound))
            .TemporalLeftJoin(versioned, (click, name) => new EnrichedClick(click.Key!, name, click.Value))
            .ToKafka(output, c => c.User, Serdes.String!, Serdes.Json<EnrichedClick>());
    }

    private static KeyedStream<string, KafkaRecord<string?, string?>> Clicks(StreamJob job, string clicks,
        WatermarkStrategy<KafkaRecord<string?, string?>>? watermarks) =>
        job.FromKafka([clicks], StartFrom.Earliest, Serdes.String, Serdes.String, watermarks)
            .Filter(click => click.Key is not null)
            .KeyBy(click => click.Key!);
}

/// <summary>A click with its user's name (null if the user is not in the table).</summary>
public sealed record EnrichedClick(string User, string? Name, string? Page);
