using Microsoft.Extensions.Logging;

namespace Quill.Keeper.Client.Tests.Fixtures;

/// <summary>Client logs appended to the file named by QUILL_TEST_LOG, for debugging a failing test; silent otherwise.</summary>
public sealed class FileTestLogger(string name) : ILogger
{
    private static readonly string? File = Environment.GetEnvironmentVariable("QUILL_TEST_LOG");
    public static bool Enabled => !string.IsNullOrEmpty(File);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => Enabled;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!Enabled) return;
        string line = $"{DateTime.Now:HH:mm:ss.fff} {logLevel} [{name}] {formatter(state, exception)} {exception?.GetType().Name} {exception?.Message}\n";
        lock (typeof(FileTestLogger)) System.IO.File.AppendAllText(File!, line);
    }
}
