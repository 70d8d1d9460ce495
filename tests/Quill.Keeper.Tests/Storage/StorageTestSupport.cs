using Microsoft.Extensions.Logging;
using Quill.Keeper.Storage;

namespace Quill.Keeper.Tests.Storage;

/// <summary>A fresh directory under the system temp dir, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "quill-storage-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string[] FileNames() =>
        Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Keeps what was logged so tests can check that a repair was reported, and how.</summary>
internal sealed class ListLogger : ILogger
{
    public List<(LogLevel Level, string Message)> Entries { get; } = [];

    public IEnumerable<string> At(LogLevel level) => Entries.Where(e => e.Level == level).Select(e => e.Message);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Entries) Entries.Add((logLevel, formatter(state, exception)));
    }
}

internal static class Txns
{
    /// <summary>A txn whose every field derives from the zxid, with a body of varying size (0..299 bytes).</summary>
    public static TxnEntry Make(long zxid, byte salt = 0)
    {
        var body = new byte[(int)(zxid * 37 % 300)];
        for (int i = 0; i < body.Length; i++) body[i] = (byte)(zxid * 7 + i + salt);
        return new TxnEntry(zxid, SessionId: 0x100 + zxid, Cxid: (int)zxid * 3, Time: 1_700_000_000_000 + zxid, Type: (int)(zxid % 20), Body: body);
    }

    public static void AssertSame(TxnEntry expected, TxnEntry actual)
    {
        Assert.Equal(expected.Zxid, actual.Zxid);
        Assert.Equal(expected.SessionId, actual.SessionId);
        Assert.Equal(expected.Cxid, actual.Cxid);
        Assert.Equal(expected.Time, actual.Time);
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Body, actual.Body);
    }

    public static TxnLog Open(string dir, ILogger? logger = null, TxnLogOptions? options = null) =>
        new(dir, options ?? new TxnLogOptions(), logger ?? new ListLogger());

    /// <summary>Opens the log, recovers it and returns everything replayed.</summary>
    public static List<TxnEntry> Recover(string dir, ILogger? logger = null, long afterZxid = 0)
    {
        using var log = Open(dir, logger);
        var replayed = new List<TxnEntry>();
        log.Recover(afterZxid, replayed.Add);
        return replayed;
    }

    /// <summary>Writes txns first..last, committing every <paramref name="batch"/> of them.</summary>
    public static void AppendRange(TxnLog log, long first, long last, int batch = 4)
    {
        for (long z = first; z <= last; z++)
        {
            log.Append(Make(z));
            if ((z - first + 1) % batch == 0) log.Commit();
        }
        log.Commit();
    }

    /// <summary>Byte offset where each frame of a log file starts (read from the frame lengths).</summary>
    public static List<long> FrameOffsets(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var offsets = new List<long>();
        long offset = 16;
        while (offset + 8 <= bytes.Length)
        {
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)offset));
            if (length == 0) break;
            offsets.Add(offset);
            offset += 8 + length;
        }
        return offsets;
    }
}
