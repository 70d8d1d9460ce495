using Quill.Streams.Api;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Examples.UserSessions;

/// <summary>
/// Reads user actions (key: the user, value: the action; event time: the Kafka timestamp) and writes one record per
/// session of a user, a session ending after <c>gap</c> without actions (session windows): key the user, value JSON
/// <c>{"User":..., "Start":..., "End":..., "Actions":...}</c>. Records up to 5 s out of order are counted; a partition with
/// no actions for 30 s does not hold the others back (idleness).
/// </summary>
public static class UserSessionsJob
{
    public static void Define(StreamJob job, string input, string output, TimeSpan gap)
    {
        var watermarks = WatermarkStrategy<KafkaRecord<string?, string?>>.ForBoundedOutOfOrderness(TimeSpan.FromSeconds(5))
            .WithIdleness(TimeSpan.FromSeconds(30));
        job.FromKafka([input], StartFrom.Earliest, Serdes.String, Serdes.String, watermarks)
            .Filter(action => action.Key is not null)
            .KeyBy(action => action.Key!)
            .Window(EventTimeSessionWindows.WithGap(gap))
            .Aggregate(() => 0, (count, _) => count + 1, (a, b) => a + b,
                (user, session, count) => new UserSession(user, session.Start, session.End, count))
            .ToKafka(output, s => s.User, Serdes.String, Serdes.Json<UserSession>());
    }
}

/// <summary>One session: its first action's time, its last action's time plus the gap, and how many actions it had.</summary>
public sealed record UserSession(string User, long Start, long End, int Actions);
