using Quill.Streams.Checkpoints;

namespace Quill.Streams.Tests;

/// <summary>What the tests read of a job's checkpoints while it runs, and the word counts they expect.</summary>
internal static class CheckpointProgress
{
    /// <summary>How many input records the newest checkpoint in <paramref name="directory"/> covers (0 before the first).</summary>
    public static long Records(string directory)
    {
        try
        {
            return new CheckpointStorage(directory).LoadLatest()?.SourceOffsets.Values.Sum(p => p.Values.Sum()) ?? 0;
        }
        catch (IOException)
        {
            return 0; // the file listed was just replaced by a newer one, or removed by cleanup
        }
    }

    /// <summary>Waits until the newest checkpoint's offsets cover exactly <paramref name="records"/> input records.</summary>
    public static async Task WaitUntilCoveringAsync(string directory, long records, JobProcess job)
    {
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (Records(directory) != records)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no checkpoint covered {records} input records\n{job.Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>Each word's count over whitespace-separated lines: what a word count must end with.</summary>
    public static Dictionary<string, long> WordTotals(IEnumerable<string> lines) =>
        lines.SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).CountBy(w => w).ToDictionary(p => p.Key, p => (long)p.Value);
}
