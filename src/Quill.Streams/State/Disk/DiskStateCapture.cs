using System.Text.Json;
using Quill.Streams.Checkpoints;
using RocksDbSharp;

namespace Quill.Streams.State.Disk;

/// <summary>
/// One operator's and task's states and timers in the run's RocksDB, as of a RocksDB snapshot taken when captured (at
/// the barrier, on the task's thread): reading it later, on another thread, sees none of the task's writes since, so a
/// state file written from it is the same consistent cut as one written at the barrier. Creating it costs no copy of
/// the state. Disposing releases the snapshot (RocksDB keeps what it still shows until then).
/// </summary>
internal sealed class DiskStateCapture<TKey> : IStateCapture where TKey : notnull
{
    private readonly DiskKeyedStateStore<TKey> _store;
    private readonly Snapshot _snapshot;
    private readonly ReadOptions _read;

    public DiskStateCapture(DiskKeyedStateStore<TKey> store)
    {
        _store = store;
        _snapshot = store.Db.Db.CreateSnapshot();
        _read = new ReadOptions().SetFillCache(false).SetSnapshot(_snapshot);
        States = store.StatesAt(_read, store.Now);
    }

    public IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> States { get; }

    public IEnumerable<JsonElement[]> Timers(string domain)
    {
        var prefix = _store.PrefixOf(domain, DiskStateKeys.TimerTag);
        foreach (var (entry, _) in _store.Scan(prefix, _read))
        {
            var (time, key) = DiskStateKeys.SplitTimer(entry, prefix.Length);
            yield return [DiskStateKeys.Element(key.Span), StateJson.Write(time)];
        }
    }

    public void Dispose() => _snapshot.Dispose();
}
