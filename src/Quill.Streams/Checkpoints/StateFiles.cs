using System.Text;
using System.Text.Json;

namespace Quill.Streams.Checkpoints;

/// <summary>
/// A keyed operator task's snapshot as a file of its own, for state kept on disk: the task streams its entries into
/// the file as it reads them, so neither the task nor the checkpoint coordinator ever holds the state in memory (the
/// checkpoint file names the state file instead of holding the entries). The files of checkpoint N are in
/// <c>chk-N.state/</c> beside <c>chk-N.json</c>, removed with it. One JSON value per line, in sections: a header object
/// (<c>{"state": name}</c>, <c>{"timers": "event"}</c>, <c>{"timers": "processing"}</c>) and then its entries as arrays,
/// <c>[key, value]</c> or <c>[key, time]</c> (the same JSON forms as a snapshot held in the checkpoint file, so either
/// backend restores either).
/// </summary>
internal static class StateFiles
{
    private const string State = "state", Timers = "timers", EventTime = "event", ProcessingTime = "processing";
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    /// <summary>Where a task's file of checkpoint <paramref name="checkpointId"/> goes, relative to the checkpoint directory.</summary>
    public static string RelativePath(long checkpointId, string operatorId, int subtask)
    {
        string safe = string.Concat(operatorId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        return Path.Combine(CheckpointNames.StateDirectory(checkpointId), $"{safe}-{subtask}.jsonl");
    }

    /// <summary>
    /// Writes the entries to <paramref name="path"/> and fsyncs it (the checkpoint file names it once it is complete);
    /// <paramref name="cancel"/> stops it part way (the file is then named by no checkpoint, and swept later).
    /// </summary>
    public static void Write(string path, IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> states,
        IEnumerable<JsonElement[]> eventTimers, IEnumerable<JsonElement[]> processingTimers, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        // Lines are encoded into one buffer and written to the file in large pieces.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 17);
        using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        void EndLine()
        {
            writer.Flush();
            System.Buffers.BuffersExtensions.Write(buffer, NewLine);
            writer.Reset();
            if (buffer.WrittenCount < 1 << 16) return;
            cancel.ThrowIfCancellationRequested();
            file.Write(buffer.WrittenSpan);
            buffer.ResetWrittenCount();
        }
        void Section(string kind, string name, IEnumerable<JsonElement[]> entries)
        {
            writer.WriteStartObject();
            writer.WriteString(kind, name);
            writer.WriteEndObject();
            EndLine();
            foreach (var entry in entries)
            {
                writer.WriteStartArray();
                foreach (var element in entry) element.WriteTo(writer);
                writer.WriteEndArray();
                EndLine();
            }
        }
        foreach (var (name, entries) in states) Section(State, name, entries);
        Section(Timers, EventTime, eventTimers);
        Section(Timers, ProcessingTime, processingTimers);
        file.Write(buffer.WrittenSpan);
        file.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Every entry of a file in one pass, read as enumerated: a state's as (null, state name, [key, value]), a timer's
    /// as (its time domain, the section's name, [key, time]).
    /// </summary>
    public static IEnumerable<(Time.TimeDomain? Timers, string Name, JsonElement[] Entry)> Read(string path)
    {
        int number = 0;
        string? kind = null, name = null;
        Time.TimeDomain? timers = null;
        foreach (string line in File.ReadLines(path, Encoding.UTF8))
        {
            number++;
            if (line.Length == 0) continue;
            var value = JsonSerializer.Deserialize<JsonElement>(line);
            if (value.ValueKind == JsonValueKind.Object && value.EnumerateObject().ToList() is [var header] && header.Value.ValueKind == JsonValueKind.String)
            {
                (kind, name) = (header.Name, header.Value.GetString()!);
                timers = kind != Timers ? null
                    : name == EventTime ? Time.TimeDomain.EventTime
                    : name == ProcessingTime ? Time.TimeDomain.ProcessingTime
                    : throw new InvalidDataException($"{path}:{number}: unknown timer section '{name}'");
                if (kind is not (State or Timers)) throw new InvalidDataException($"{path}:{number}: unknown section '{kind}'");
                continue;
            }
            if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 2 || kind is null)
                throw new InvalidDataException($"{path}:{number} is neither a section header nor an entry of one");
            yield return (timers, name!, [value[0], value[1]]);
        }
    }

    /// <summary>The state entries of a file, read as enumerated: (state name, [key, value]).</summary>
    public static IEnumerable<(string Name, JsonElement[] Entry)> ReadStates(string path) =>
        Read(path).Where(e => e.Timers is null).Select(e => (e.Name, e.Entry));

    /// <summary>The timers of a file, read as enumerated: [key, time], of event time or else of processing time.</summary>
    public static IEnumerable<JsonElement[]> ReadTimers(string path, bool eventTime)
    {
        var domain = eventTime ? Time.TimeDomain.EventTime : Time.TimeDomain.ProcessingTime;
        return Read(path).Where(e => e.Timers == domain).Select(e => e.Entry);
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

    /// <summary>Removes checkpoint <paramref name="id"/>'s file (or what is left of its writing) and its state files from <paramref name="directory"/>.</summary>
    public static void DeleteCheckpoint(string directory, long id)
    {
        File.Delete(Path.Combine(directory, CheckpointNames.File(id)));
        File.Delete(Path.Combine(directory, CheckpointNames.TempFile(id)));
        string states = Path.Combine(directory, CheckpointNames.StateDirectory(id));
        if (Directory.Exists(states)) Directory.Delete(states, recursive: true);
    }
}
