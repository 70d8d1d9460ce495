using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using FASTER.core;
using RocksDbSharp;
using ZoneTree;
using ZoneTree.Options;

namespace Quill.Perf;

/// <param name="ValueBytes">Each value's size: 8 is the bare counter; more adds random bytes after it (a payload no
/// compression shrinks, so the stores' data really outgrows the budget).</param>
public sealed record StatePerfOptions(string Store, int Keys, int Ops, int CacheMb, int Runs, string Directory, int Seed, int ValueBytes = 8);

/// <summary>One phase of one run: how many operations took how long.</summary>
public sealed record StatePhase(string Name, long Ops, TimeSpan Elapsed)
{
    public double OpsPerSecond => Ops / Elapsed.TotalSeconds;
}

/// <summary>A run's phases, the store's files, and the process's memory after the updates (managed heap after a full collection; resident set).</summary>
public sealed record StatePerfRun(IReadOnlyList<StatePhase> Phases, long DiskBytes, long HeapBytes, long ResidentBytes);

/// <summary>
/// `quill perf state`: the candidate embedded stores for Quill.Streams' on-disk state backend, each doing what a keyed
/// task does to a keyed counter: put N keys (value 0, in key order), then random gets, then random updates (a get and
/// a put of the value plus one, as <c>state.Value++</c>). One thread, as one keyed task. Every store gets the same memory
/// budget (<c>--cache-mb</c>: RocksDB's block cache, plus a write buffer of a quarter of it; FASTER's in-memory log;
/// ZoneTree's mutable segment sized to it) and N is chosen larger than that, so reads go to disk files (the page cache
/// still helps all three alike). No write-ahead log for any of them: the backend's durability is the checkpoint.
/// </summary>
public static class StatePerf
{
    public static readonly string[] Stores = ["rocksdb", "faster", "zonetree"];

    public static StatePerfRun Run(StatePerfOptions options, string store, int run)
    {
        string dir = Path.Combine(options.Directory, $"{store}-{run}");
        if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, true);
        System.IO.Directory.CreateDirectory(dir);
        try
        {
            var payload = new Payload(options.ValueBytes, options.Seed);
            using ICounterStore counters = store switch
            {
                "rocksdb" => new RocksCounters(dir, options.CacheMb, payload),
                "faster" when options.ValueBytes == 8 => new FasterCounters(dir, options.Keys, options.CacheMb),
                "faster" => throw new ArgumentException("faster: only 8-byte values are measured (its variable-length values need another session type)"),
                "zonetree" when options.ValueBytes == 8 => new ZoneTreeCounters(dir, options.CacheMb),
                "zonetree" => new ZoneTreeBlobCounters(dir, options.CacheMb, payload),
                _ => throw new ArgumentException($"unknown store {store}"),
            };
            var phases = new List<StatePhase>();
            var sw = Stopwatch.StartNew();
            for (long k = 0; k < options.Keys; k++) counters.Put(k, 0);
            phases.Add(new StatePhase("put", options.Keys, sw.Elapsed));

            var random = new Random(options.Seed + run);
            long checksum = 0;
            sw.Restart();
            for (int i = 0; i < options.Ops; i++) checksum += counters.Get(random.NextInt64(options.Keys));
            phases.Add(new StatePhase("get", options.Ops, sw.Elapsed));

            sw.Restart();
            for (int i = 0; i < options.Ops; i++)
            {
                long key = random.NextInt64(options.Keys);
                counters.Put(key, counters.Get(key) + 1);
            }
            phases.Add(new StatePhase("update", options.Ops, sw.Elapsed));

            // The updates are all there: the sum of the counters is the number of updates (the gets read zeros).
            long sum = 0;
            for (long k = 0; k < options.Keys; k++) sum += counters.Get(k);
            if (sum != options.Ops || checksum != 0)
                throw new InvalidOperationException($"{store}: counters sum to {sum}, expected {options.Ops} (get checksum {checksum})");
            long disk = new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
            long heap = GC.GetTotalMemory(forceFullCollection: true);
            using var process = Process.GetCurrentProcess();
            return new StatePerfRun(phases, disk, heap, process.WorkingSet64);
        }
        finally
        {
            try { System.IO.Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    public static string Summary(string store, StatePerfOptions options, IReadOnlyList<StatePerfRun> runs)
    {
        double Median(string phase)
        {
            var values = runs.Select(r => r.Phases.First(p => p.Name == phase).OpsPerSecond).Order().ToList();
            return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
        }
        return string.Format(CultureInfo.InvariantCulture,
            "store={0} keys={1} value_bytes={11} ops={2} cache_mb={3} runs={4} put_ops_per_s={5:0} get_ops_per_s={6:0} update_ops_per_s={7:0} disk_mb={8:0.0} heap_mb={9:0.0} rss_mb={10:0}",
            store, options.Keys, options.Ops, options.CacheMb, runs.Count, Median("put"), Median("get"), Median("update"),
            runs.Max(r => r.DiskBytes) / 1048576.0, runs.Max(r => r.HeapBytes) / 1048576.0, runs.Max(r => r.ResidentBytes) / 1048576.0, options.ValueBytes);
    }

    /// <summary>
    /// A value: the counter (8 bytes, big-endian) and then the key's random bytes, cut from a pool of random data at an
    /// offset of the key's own, so values differ from each other and nothing compresses.
    /// </summary>
    private sealed class Payload
    {
        private const int PoolBytes = 64 << 20;
        private readonly byte[] _pool = [];

        public Payload(int valueBytes, int seed)
        {
            if (valueBytes < 8) throw new ArgumentException("values are at least the 8-byte counter");
            ValueBytes = valueBytes;
            if (valueBytes > 8)
            {
                _pool = new byte[PoolBytes];
                new Random(seed).NextBytes(_pool);
            }
        }

        public int ValueBytes { get; }

        public void Write(long key, long counter, byte[] value)
        {
            BinaryPrimitives.WriteInt64BigEndian(value, counter);
            int tail = ValueBytes - 8;
            if (tail == 0) return;
            ulong mixed = unchecked((ulong)key * 0x9E3779B97F4A7C15UL);
            long offset = (long)(mixed % (ulong)(PoolBytes - tail));
            Buffer.BlockCopy(_pool, (int)offset, value, 8, tail);
        }
    }

    private interface ICounterStore : IDisposable
    {
        long Get(long key);
        void Put(long key, long value);
    }

    /// <summary>RocksDB through its C API (the RocksDB package): 8-byte big-endian keys, values as <see cref="Payload"/> writes them.</summary>
    private sealed class RocksCounters : ICounterStore
    {
        private readonly RocksDb _db;
        private readonly WriteOptions _write = new WriteOptions().DisableWal(1);
        private readonly Payload _payload;
        private readonly byte[] _key = new byte[8];
        private readonly byte[] _value;

        public RocksCounters(string dir, int cacheMb, Payload payload)
        {
            _payload = payload;
            _value = new byte[payload.ValueBytes];
            ulong cache = (ulong)cacheMb << 20;
            var table = new BlockBasedTableOptions().SetBlockCache(Cache.CreateLru(cache)).SetCacheIndexAndFilterBlocks(true)
                .SetFilterPolicy(BloomFilterPolicy.Create(10, false));
            var options = new DbOptions().SetCreateIfMissing(true).SetBlockBasedTableFactory(table)
                .SetWriteBufferSize(cache / 4).SetMaxWriteBufferNumber(2).SetMaxOpenFiles(256);
            _db = RocksDb.Open(options, dir);
        }

        public long Get(long key)
        {
            BinaryPrimitives.WriteInt64BigEndian(_key, key);
            long n = _db.Get(_key, _value, 0, _value.Length);
            return n == _value.Length ? BinaryPrimitives.ReadInt64BigEndian(_value) : 0;
        }

        public void Put(long key, long value)
        {
            BinaryPrimitives.WriteInt64BigEndian(_key, key);
            _payload.Write(key, value, _value);
            _db.Put(_key, _value, null, _write);
        }

        public void Dispose() => _db.Dispose();
    }

    /// <summary>FASTER KV with blittable long keys and values: an in-memory log of the budget's size, the rest on a log file.</summary>
    private sealed class FasterCounters : ICounterStore
    {
        private readonly IDevice _device;
        private readonly FasterKV<long, long> _store;
        private readonly ClientSession<long, long, long, long, Empty, IFunctions<long, long, long, long, Empty>> _session;

        public FasterCounters(string dir, int keys, int cacheMb)
        {
            _device = Devices.CreateLogDevice(Path.Combine(dir, "hlog.log"), deleteOnClose: true);
            int memoryBits = (int)Math.Floor(Math.Log2((double)cacheMb * 1048576));
            long buckets = 1L << (int)Math.Ceiling(Math.Log2(Math.Max(keys, 1024) / 4.0));
            _store = new FasterKV<long, long>(buckets, new LogSettings { LogDevice = _device, MemorySizeBits = memoryBits, PageSizeBits = 20 });
            _session = _store.NewSession(new SimpleFunctions<long, long>());
        }

        public long Get(long key)
        {
            long input = 0, output = 0;
            var status = _session.Read(ref key, ref input, ref output);
            if (status.IsPending)
            {
                _session.CompletePendingWithOutputs(out var outputs, wait: true);
                using (outputs)
                {
                    while (outputs.Next())
                    {
                        status = outputs.Current.Status;
                        output = outputs.Current.Output;
                    }
                }
            }
            return status.Found ? output : 0;
        }

        public void Put(long key, long value)
        {
            var status = _session.Upsert(ref key, ref value);
            if (status.IsPending) _session.CompletePending(wait: true);
        }

        public void Dispose()
        {
            _session.Dispose();
            _store.Dispose();
            _device.Dispose();
        }
    }

    /// <summary>ZoneTree (an LSM tree in C#) with long keys and values, its mutable segment sized to the budget (16 bytes an entry).</summary>
    private sealed class ZoneTreeCounters : ICounterStore
    {
        private readonly IZoneTree<long, long> _tree;
        private readonly IMaintainer _maintainer;

        public ZoneTreeCounters(string dir, int cacheMb)
        {
            _tree = new ZoneTreeFactory<long, long>()
                .SetDataDirectory(dir)
                .SetMutableSegmentMaxItemCount(Math.Max(1024, cacheMb * 1048576 / 4 / 16))
                .ConfigureWriteAheadLogOptions(w => w.WriteAheadLogMode = WriteAheadLogMode.None)
                .OpenOrCreate();
            _maintainer = _tree.CreateMaintainer();
        }

        public long Get(long key) => _tree.TryGet(in key, out long value) ? value : 0;

        public void Put(long key, long value) => _tree.Upsert(in key, in value);

        public void Dispose()
        {
            _maintainer.WaitForBackgroundThreads();
            _maintainer.Dispose();
            _tree.Dispose();
        }
    }

    /// <summary>ZoneTree with long keys and byte-array values (<see cref="Payload"/>), its mutable segment sized to the budget.</summary>
    private sealed class ZoneTreeBlobCounters : ICounterStore
    {
        private readonly IZoneTree<long, byte[]> _tree;
        private readonly IMaintainer _maintainer;
        private readonly Payload _payload;

        public ZoneTreeBlobCounters(string dir, int cacheMb, Payload payload)
        {
            _payload = payload;
            _tree = new ZoneTreeFactory<long, byte[]>()
                .SetDataDirectory(dir)
                .SetMutableSegmentMaxItemCount(Math.Max(1024, cacheMb * 1048576 / 4 / (payload.ValueBytes + 8)))
                .ConfigureWriteAheadLogOptions(w => w.WriteAheadLogMode = WriteAheadLogMode.None)
                .OpenOrCreate();
            _maintainer = _tree.CreateMaintainer();
        }

        public long Get(long key) => _tree.TryGet(in key, out byte[] value) && value.Length >= 8 ? BinaryPrimitives.ReadInt64BigEndian(value) : 0;

        public void Put(long key, long value)
        {
            var bytes = new byte[_payload.ValueBytes];
            _payload.Write(key, value, bytes);
            _tree.Upsert(in key, in bytes);
        }

        public void Dispose()
        {
            _maintainer.WaitForBackgroundThreads();
            _maintainer.Dispose();
            _tree.Dispose();
        }
    }
}
