using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using FASTER.core;
using RocksDbSharp;
using ZoneTree;
using ZoneTree.Options;

namespace Quill.Perf;

public sealed record StatePerfOptions(string Store, int Keys, int Ops, int CacheMb, int Runs, string Directory, int Seed);

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
            using ICounterStore counters = store switch
            {
                "rocksdb" => new RocksCounters(dir, options.CacheMb),
                "faster" => new FasterCounters(dir, options.Keys, options.CacheMb),
                "zonetree" => new ZoneTreeCounters(dir, options.CacheMb),
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
            "store={0} keys={1} ops={2} cache_mb={3} runs={4} put_ops_per_s={5:0} get_ops_per_s={6:0} update_ops_per_s={7:0} disk_mb={8:0.0} heap_mb={9:0.0} rss_mb={10:0}",
            store, options.Keys, options.Ops, options.CacheMb, runs.Count, Median("put"), Median("get"), Median("update"),
            runs.Max(r => r.DiskBytes) / 1048576.0, runs.Max(r => r.HeapBytes) / 1048576.0, runs.Max(r => r.ResidentBytes) / 1048576.0);
    }

    private interface ICounterStore : IDisposable
    {
        long Get(long key);
        void Put(long key, long value);
    }

    /// <summary>RocksDB through its C API (the RocksDB package): 8-byte big-endian keys and values.</summary>
    private sealed class RocksCounters : ICounterStore
    {
        private readonly RocksDb _db;
        private readonly WriteOptions _write = new WriteOptions().DisableWal(1);
        private readonly byte[] _key = new byte[8];
        private readonly byte[] _value = new byte[8];

        public RocksCounters(string dir, int cacheMb)
        {
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
            long n = _db.Get(_key, _value, 0, 8);
            return n == 8 ? BinaryPrimitives.ReadInt64BigEndian(_value) : 0;
        }

        public void Put(long key, long value)
        {
            BinaryPrimitives.WriteInt64BigEndian(_key, key);
            BinaryPrimitives.WriteInt64BigEndian(_value, value);
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
}
