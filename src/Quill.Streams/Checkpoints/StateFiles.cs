using System.Text;
using System.Text.Json;

namespace Quill.Streams.Checkpoints;

/// <summary>
/// A keyed operator task's snapshot as a file of its own, for state kept on disk: the task streams its entries into
/// the file as it reads them, so neither the task nor the checkpoint coordinator ever holds the state in memory (the
/// checkpoint file names the state file instead of holding the entries). The files of checkpoint N are in
/// <c>chk-N.state/</c> beside <c>chk-N.json</c>, removed with it. One JSON array per line:
/// <c>["state", name, key, value]</c>, <c>["event", key, time]</c>, <c>["processing", key, time]</c> (the same JSON
/// forms as a snapshot held in the checkpoint file, so either backend restores either).
/// </summary>
internal static class StateFiles
{
    private const string State = "state", EventTimer = "event", ProcessingTimer = "processing";
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    /// <summary>The directory of checkpoint <paramref name="checkpointFile"/>'s state files (chk-N.json: chk-N.state).</summary>
    public static string DirectoryOf(string checkpointFile) => Path.ChangeExtension(checkpointFile, ".state");

    /// <summary>Where a task's file of checkpoint <paramref name="checkpointId"/> goes, relative to the checkpoint directory.</summary>
    public static string RelativePath(long checkpointId, string operatorId, int subtask)
    {
        string safe = string.Concat(operatorId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        return Path.Combine($"chk-{checkpointId:D19}.state", $"{safe}-{subtask}.jsonl");
    }

    /// <summary>Writes the entries to <paramref name="path"/> and fsyncs it (the checkpoint file names it once it is complete).</summary>
    public static void Write(string path, IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> states,
        IEnumerable<JsonElement[]> eventTimers, IEnumerable<JsonElement[]> processingTimers)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using var writer = new Utf8JsonWriter(file);
        void Line(string kind, string? name, JsonElement[] entry)
        {
            writer.WriteStartArray();
            writer.WriteStringValue(kind);
            if (name is not null) writer.WriteStringValue(name);
            foreach (var element in entry) element.WriteTo(writer);
            writer.WriteEndArray();
            writer.Flush();
            file.Write(NewLine);
            writer.Reset();
        }
        foreach (var (name, entries) in states)
            foreach (var entry in entries) Line(State, name, entry);
        foreach (var timer in eventTimers) Line(EventTimer, null, timer);
        foreach (var timer in processingTimers) Line(ProcessingTimer, null, timer);
        file.Flush(flushToDisk: true);
    }

    /// <summary>The state entries of a file, read as enumerated: (state name, [key, value]).</summary>
    public static IEnumerable<(string Name, JsonElement[] Entry)> ReadStates(string path)
    {
        foreach (var line in Lines(path))
            if (line[0].GetString() == State) yield return (line[1].GetString()!, line[2..]);
    }

    /// <summary>The timers of a file, read as enumerated: [key, time], of event time or else of processing time.</summary>
    public static IEnumerable<JsonElement[]> ReadTimers(string path, bool eventTime)
    {
        string kind = eventTime ? EventTimer : ProcessingTimer;
        foreach (var line in Lines(path))
            if (line[0].GetString() == kind) yield return line[1..];
    }

    private static IEnumerable<JsonElement[]> Lines(string path)
    {
        int number = 0;
        foreach (string line in File.ReadLines(path, Encoding.UTF8))
        {
            number++;
            if (line.Length == 0) continue;
            var elements = JsonSerializer.Deserialize<JsonElement[]>(line);
            if (elements is not { Length: >= 3 } || elements[0].ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{path}:{number} is not a state entry or timer");
            yield return elements;
        }
    }

    /// <summary>Copies the state files <paramref name="checkpoint"/> names from <paramref name="from"/> to <paramref name="to"/> (same relative paths).</summary>
    public static void Copy(Checkpoint checkpoint, string from, string to)
    {
        foreach (var snapshot in checkpoint.Operators.Values.SelectMany(s => s))
        {
            if (snapshot.File is not { } relative) continue;
            string target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(from, relative), target, overwrite: true);
            using var copied = new FileStream(target, FileMode.Open, FileAccess.ReadWrite);
            copied.Flush(flushToDisk: true);
        }
    }

    /// <summary>Removes checkpoint file <paramref name="checkpointFile"/> and its state files.</summary>
    public static void DeleteCheckpoint(string checkpointFile)
    {
        File.Delete(checkpointFile);
        string states = DirectoryOf(checkpointFile);
        if (Directory.Exists(states)) Directory.Delete(states, recursive: true);
    }
}
