using System.Text.Json;

namespace Quill.Keeper.Ensemble.Tests.History;

/// <summary>
/// Reads the workload's history (JSON lines, see Workload/workload.py) and joins each invocation with its process's
/// next completion. Times are rebased so the first event is at 0, which keeps reports readable.
/// </summary>
public static class HistoryFile
{
    /// <summary>Processes from this number on are the final reads after the run.</summary>
    public const long FinalProcessBase = 1_000_000;

    public static IReadOnlyList<Operation> Read(string path) => Parse(File.ReadLines(path), out _);

    /// <summary>Joins the lines into operations; <paramref name="startNs"/> is the clock value time 0 stands for.</summary>
    public static IReadOnlyList<Operation> Parse(IEnumerable<string> lines, out long startNs)
    {
        var events = new List<Event>();
        foreach (var line in lines)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            events.Add(new Event(
                root.GetProperty("process").GetInt64(),
                root.GetProperty("type").GetString()!,
                root.GetProperty("f").GetString()!,
                StringOrNull(root, "key"),
                root.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null,
                root.TryGetProperty("value", out var list) && list.ValueKind == JsonValueKind.Array
                    ? list.EnumerateArray().Select(e => e.GetString()!).ToList()
                    : null,
                root.TryGetProperty("version", out var ver) && ver.ValueKind == JsonValueKind.Number ? ver.GetInt64() : null,
                root.GetProperty("time_ns").GetInt64()));
        }
        startNs = events.Count == 0 ? 0 : events.Min(e => e.TimeNs);
        return Join(events, startNs);
    }

    private sealed record Event(long Process, string Type, string F, string? Key, string? Value, List<string>? Names, long? Version, long TimeNs);

    private static List<Operation> Join(List<Event> events, long startNs)
    {
        var open = new Dictionary<long, Event>();
        var pending = new List<(Event Invoke, Event? Completion)>();
        var index = new Dictionary<long, int>();
        foreach (var e in events.OrderBy(e => e.TimeNs))
        {
            if (e.Type == "invoke")
            {
                if (open.ContainsKey(e.Process))
                    throw new FormatException($"process {e.Process} invoked {e.F} while its previous op was still open");
                open[e.Process] = e;
                index[e.Process] = pending.Count;
                pending.Add((e, null));
            }
            else
            {
                if (!open.Remove(e.Process))
                    throw new FormatException($"process {e.Process} completed {e.F} ({e.Type}) without an invocation");
                int i = index[e.Process];
                pending[i] = (pending[i].Invoke, e);
            }
        }
        var operations = new List<Operation>(pending.Count);
        foreach (var (invoke, completion) in pending)
        {
            var outcome = completion?.Type switch
            {
                "ok" => Outcome.Ok,
                "fail" => Outcome.Fail,
                _ => Outcome.Info,
            };
            bool known = outcome != Outcome.Info;
            operations.Add(new Operation(
                operations.Count,
                invoke.Process,
                invoke.F,
                invoke.Key,
                outcome,
                completion?.Value ?? invoke.Value,
                outcome == Outcome.Ok ? completion!.Version : (invoke.F == "cas" ? null : invoke.Version),
                invoke.F == "cas" ? invoke.Version : null,
                completion?.Names,
                invoke.TimeNs - startNs,
                known ? completion!.TimeNs - startNs : null));
        }
        return operations;
    }

    private static string? StringOrNull(JsonElement root, string name) =>
        root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
}
