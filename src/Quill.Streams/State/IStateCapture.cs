using System.Text.Json;

namespace Quill.Streams.State;

/// <summary>
/// A keyed store's states and timers as they were when captured, read later on another thread while the task goes on
/// changing them: Flink's asynchronous snapshot phase. Disposing releases what holds the view (on disk, a RocksDB
/// snapshot). Read by one thread at a time.
/// </summary>
internal interface IStateCapture : IDisposable
{
    /// <summary>Every state's [key, value] pairs by name, in the checkpoint's format, read as they are enumerated.</summary>
    IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> States { get; }

    /// <summary>The timers of a time domain ("event" or "processing") as [key, time], read as they are enumerated.</summary>
    IEnumerable<JsonElement[]> Timers(string domain);
}
