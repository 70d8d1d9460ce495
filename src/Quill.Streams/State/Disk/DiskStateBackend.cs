using RocksDbSharp;

namespace Quill.Streams.State.Disk;

/// <summary>
/// Keyed state in an embedded RocksDB (the RocksDB package, native libraries included), one database per job run
/// under <c>directory/&lt;job name&gt;</c>, shared by every keyed operator and task of the job: each state's entries
/// are keyed by (operator, task, state name, key [, map key]) (<see cref="DiskStateKeys"/>). Nothing of the state is
/// kept on the heap between records. Memory: one LRU block cache (data, index and filter blocks) of
/// <see cref="CacheBytes"/>, and two write buffers of a quarter of it each. No write-ahead log: the database is working
/// space, emptied when a run starts; what survives a crash is the checkpoint, which a restore loads back into it.
/// </summary>
internal sealed class DiskStateBackend(string directory, long cacheBytes) : StateBackend
{
    public const long DefaultCacheBytes = 64L << 20;

    public string Directory { get; } = directory;
    public long CacheBytes { get; } = cacheBytes;

    internal override void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory)) throw new ArgumentException("the on-disk state backend needs a directory");
        if (CacheBytes < 1 << 20) throw new ArgumentOutOfRangeException(nameof(CacheBytes), CacheBytes, "must be at least 1 MiB");
    }

    internal override JobStateBackend Open(string jobName) => new DiskJobState(Path.Combine(Directory, Sanitize(jobName)), CacheBytes);

    private static string Sanitize(string name) =>
        string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}

/// <summary>One run's RocksDB, opened when the first keyed operator asks for a store, closed when the run ends.</summary>
internal sealed class DiskJobState(string path, long cacheBytes) : JobStateBackend
{
    private readonly Lock _lock = new();
    private DiskStateDb? _db;

    public DiskStateDb Db
    {
        get
        {
            lock (_lock) return _db ??= DiskStateDb.OpenEmpty(path, cacheBytes);
        }
    }

    public override IKeyedStateStore<TKey> CreateKeyedStore<TKey>(string operatorId, int subtask, Func<long> now) =>
        new DiskKeyedStateStore<TKey>(Db, operatorId, subtask, now);

    public override void Dispose()
    {
        lock (_lock)
        {
            _db?.Dispose();
            _db = null;
        }
    }
}

/// <summary>The RocksDB of a run, and the options every state uses with it. RocksDB is safe for concurrent use: each task writes only its own keys.</summary>
internal sealed class DiskStateDb : IDisposable
{
    private readonly Cache _cache;

    private DiskStateDb(string path, long cacheBytes)
    {
        Path = path;
        CacheBytes = cacheBytes;
        WriteBufferBytes = cacheBytes / 4;
        _cache = Cache.CreateLru((ulong)cacheBytes);
        var table = new BlockBasedTableOptions()
            .SetBlockCache(_cache)
            .SetFilterPolicy(BloomFilterPolicy.Create(10, false)) // a point lookup skips the files without its key
            .SetCacheIndexAndFilterBlocks(true)            // index and filter blocks count against the cache too
            .SetPinL0FilterAndIndexBlocksInCache(true);
        var options = new DbOptions()
            .SetCreateIfMissing(true)
            .SetBlockBasedTableFactory(table)
            .SetWriteBufferSize((ulong)WriteBufferBytes)
            .SetMaxWriteBufferNumber(2)
            .SetMaxOpenFiles(512);
        Db = RocksDb.Open(options, path);
    }

    public RocksDb Db { get; }
    public string Path { get; }
    public long CacheBytes { get; }
    public long WriteBufferBytes { get; }

    /// <summary>Writes skip the write-ahead log: the checkpoint, not this database, is what a restart recovers from.</summary>
    public WriteOptions Write { get; } = new WriteOptions().DisableWal(1);

    /// <summary>A directory left by an earlier run is removed: its state is either in a checkpoint or meant to be gone.</summary>
    public static DiskStateDb OpenEmpty(string path, long cacheBytes)
    {
        if (System.IO.Directory.Exists(path)) System.IO.Directory.Delete(path, recursive: true);
        System.IO.Directory.CreateDirectory(path);
        return new DiskStateDb(path, cacheBytes);
    }

    /// <summary>Bytes the block cache holds now.</summary>
    public long CacheUsage => (long)_cache.GetUsage();

    /// <summary>A RocksDB property as a number (e.g. rocksdb.cur-size-all-mem-tables, rocksdb.total-sst-files-size).</summary>
    public long LongProperty(string name) => long.TryParse(Db.GetProperty(name), out long value) ? value : -1;

    /// <summary>Writes the write buffers out to files (tests use it to see the state on disk).</summary>
    public void Flush() => Db.Flush(new FlushOptions().SetWaitForFlush(true));

    public void Dispose() => Db.Dispose();
}
