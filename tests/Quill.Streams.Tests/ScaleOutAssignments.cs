using System.Text.Json;
using Xunit.Abstractions;

namespace Quill.Streams.Tests;

/// <summary>A scaled-out job's assignment znode as the scale-out tests read it (through kazoo).</summary>
internal static class ScaleOutAssignments
{
    /// <summary>The generation's subtasks per instance.</summary>
    public static Dictionary<string, int[]> SubtasksOf(JsonElement assignment) =>
        assignment.GetProperty("instances").EnumerateArray()
            .ToDictionary(i => i.GetProperty("instance").GetString()!, i => i.GetProperty("subtasks").EnumerateArray().Select(s => s.GetInt32()).ToArray());

    /// <summary>Waits until the assignment names exactly <paramref name="instances"/>, each with subtasks; logs and returns it.</summary>
    public static async Task<JsonElement> WaitForAsync(HaKazoo kazoo, string jobRoot, string[] instances, ITestOutputHelper log, params JobProcess[] jobs)
    {
        JsonElement? assignment = null;
        await HighAvailabilityTests.WaitForAsync(() =>
        {
            assignment = kazoo.ReadAssignmentAsync(jobRoot).GetAwaiter().GetResult();
            return assignment is { } a && SubtasksOf(a).Keys.Order().SequenceEqual(instances.Order()) && SubtasksOf(a).Values.All(s => s.Length > 0);
        }, $"an assignment over {string.Join(", ", instances)}", jobs);
        log.WriteLine(assignment!.Value.GetRawText());
        return assignment.Value;
    }
}
