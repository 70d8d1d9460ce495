using Quill.Streams.Api;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Examples.WindowedCounts;

/// <summary>
/// Counts each key's records in tumbling event-time windows (key: the record key; event time: the Kafka timestamp) and
/// writes one record per key and window once the watermark passes the window's end: key the key, value JSON
/// <c>{"Key":..., "Start":..., "End":..., "Count":...}</c> (the window is [Start, End), in epoch milliseconds), stamped
/// with the window's last millisecond. Records up to <c>outOfOrderness</c> behind the highest timestamp of their
/// partition are counted; later ones are dropped. With an <c>idleness</c>, a partition that has had no records for that
/// long does not hold the others back. Records without a key are not counted, but still move event time on.
/// </summary>
public static class WindowedCountsJob
{
    public static void Define(StreamJob job, string input, string output, TimeSpan window, TimeSpan outOfOrderness, TimeSpan? idleness)
    {
        var watermarks = WatermarkStrategy<KafkaRecord<string?, string?>>.ForBoundedOutOfOrderness(outOfOrderness);
        if (idleness is { } idle) watermarks = watermarks.WithIdleness(idle);
        job.FromKafka([input], StartFrom.Earliest, Serdes.String, Serdes.String, watermarks).Uid("events")
            .Filter(e => e.Key is not null)
            .KeyBy(e => e.Key!)
            .Window(TumblingEventTimeWindows.Of(window))
            .Aggregate(() => 0L, (count, _) => count + 1, (key, w, count) => new WindowCount(key, w.Start, w.End, count)).Uid("counts")
            .ToKafka(output, c => c.Key, Serdes.String, Serdes.Json<WindowCount>());
    }
}

/// <summary>How many records of <paramref name="Key"/> fell in the window [<paramref name="Start"/>, <paramref name="End"/>).</summary>
public sealed record WindowCount(string Key, long Start, long End, long Count);
