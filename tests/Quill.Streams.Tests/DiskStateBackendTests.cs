using Quill.Streams.State;
using Quill.Streams.State.Disk;

namespace Quill.Streams.Tests;

/// <summary>The on-disk state backend: every state kind in a real RocksDB in a temp directory, its snapshots, and its memory bound.</summary>
public sealed class DiskStateBackendTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-state-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<JobStateBackend> _runs = [];

    public void Dispose()
    {
        foreach (var run in _runs) run.Dispose();
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A run of its own job (a run empties its job's folder when it opens the store).</summary>
    private DiskJobState OpenRun(long cacheBytes = DiskStateBackend.DefaultCacheBytes)
    {
        var run = (DiskJobState)StateBackend.OnDisk(_directory, cacheBytes).Open($"job-{_runs.Count}");
        _runs.Add(run);
        return run;
    }

    private DiskKeyedStateStore<TKey> DiskStore<TKey>(Func<long>? now = null, string op = "op-1", int subtask = 0) where TKey : notnull =>
        (DiskKeyedStateStore<TKey>)OpenRun().CreateKeyedStore<TKey>(op, subtask, now ?? (() => 0));

    [Fact]
    public void each_state_kind_keeps_a_separate_value_per_key_in_the_store()
    {
        var store = DiskStore<string>();
        var value = store.GetValueState<(string, int)>("value");
        var list = store.GetListState<int>("list");
        var map = store.GetMapState<string, long>("map");
        var sum = store.GetReducingState<long>("sum", (a, b) => a + b);

        store.CurrentKey = "a";
        value.Value = ("x", 1);
        list.Add(1);
        list.Add(2);
        map.Put("k", 10);
        map.Put("j", 0);
        sum.Add(3);
        sum.Add(4);
        store.CurrentKey = "b";
        Assert.False(value.HasValue);
        Assert.Equal(default, value.Value);
        Assert.Empty(list.Get());
        Assert.Empty(map.Entries);
        Assert.False(map.TryGetValue("k", out _));
        Assert.False(sum.HasValue);
        sum.Add(100);
        list.Update([7, 8, 9]);

        store.CurrentKey = "a";
        Assert.Equal(("x", 1), value.Value);
        Assert.Equal([1, 2], list.Get());
        Assert.Equal(new Dictionary<string, long> { ["k"] = 10, ["j"] = 0 }, map.Entries);
        Assert.True(map.TryGetValue("j", out long zero));
        Assert.Equal(0, zero);
        Assert.Equal(7, sum.Value);
        Assert.True(map.Remove("k"));
        Assert.False(map.Remove("k"));
        Assert.Equal(["j"], map.Entries.Keys);
        map.Clear();
        list.Update([]);
        value.Clear();
        Assert.Empty(map.Entries);
        Assert.Empty(list.Get());
        Assert.False(value.HasValue);

        store.CurrentKey = "b";
        Assert.Equal([7, 8, 9], list.Get());
        Assert.Equal(100, sum.Value);
        Assert.Same(sum, store.GetReducingState<long>("sum", (a, b) => a + b));
        Assert.Throws<InvalidOperationException>(() => store.GetValueState<int>("sum"));

        // The values are in RocksDB, not on the heap: a second store over the same database (same operator and task,
        // as after a restore) reads them; another task's store with the same names and keys does not.
        var run = _runs[0];
        var again = run.CreateKeyedStore<string>("op-1", 0, () => 0);
        var otherTask = run.CreateKeyedStore<string>("op-1", 1, () => 0);
        again.CurrentKey = otherTask.CurrentKey = "b";
        Assert.Equal(100, again.GetReducingState<long>("sum", (a, b) => a + b).Value);
        Assert.False(otherTask.GetReducingState<long>("sum", (a, b) => a + b).HasValue);
    }

    [Fact]
    public void snapshots_have_the_in_memory_format_so_either_backend_restores_the_others_and_keeps_only_owned_keys()
    {
        var memory = new KeyedStateStore<int>();
        var memMap = memory.GetMapState<string, (int, string)>("map");
        var memList = memory.GetListState<string>("list");
        var memValue = memory.GetValueState<double>("value");
        foreach (int key in new[] { 1, 2, 3, 4 })
        {
            memory.CurrentKey = key;
            memMap.Put("k", (key, "v"));
            memMap.Put("k2", (key * 10, "w"));
            memList.Add($"l{key}");
            memValue.Value = key / 2.0;
        }

        // Memory -> disk: "list" registered before the restore, "map" and "value" after (their entries wait in the store).
        var disk = DiskStore<int>();
        var diskList = disk.GetListState<string>("list");
        disk.Restore([memory.Snapshot()], key => key % 2 == 0);
        var diskMap = disk.GetMapState<string, (int, string)>("map");
        disk.CurrentKey = 2;
        Assert.Equal(new Dictionary<string, (int, string)> { ["k"] = (2, "v"), ["k2"] = (20, "w") }, diskMap.Entries);
        Assert.Equal(["l2"], diskList.Get());
        disk.CurrentKey = 1;
        Assert.Empty(diskMap.Entries);
        Assert.Empty(diskList.Get());

        // Disk -> memory, with "value" never registered on disk: it goes through as it came.
        var snapshot = disk.Snapshot();
        Assert.Equal(["list", "map", "value"], snapshot.Keys.Order());
        var back = new KeyedStateStore<int>();
        back.Restore([snapshot], _ => true);
        var backMap = back.GetMapState<string, (int, string)>("map");
        var backValue = back.GetValueState<double>("value");
        back.CurrentKey = 4;
        Assert.Equal(new Dictionary<string, (int, string)> { ["k"] = (4, "v"), ["k2"] = (40, "w") }, backMap.Entries);
        Assert.Equal(2.0, backValue.Value);
        back.CurrentKey = 3;
        Assert.False(backValue.HasValue);

        // Disk -> disk (a restart on the disk backend): the same snapshot again.
        var restarted = DiskStore<int>();
        restarted.Restore([snapshot], _ => true);
        var restartedValue = restarted.GetValueState<double>("value");
        restarted.CurrentKey = 4;
        Assert.Equal(2.0, restartedValue.Value);
        Assert.Equal(
            System.Text.Json.JsonSerializer.Serialize(snapshot.OrderBy(s => s.Key)),
            System.Text.Json.JsonSerializer.Serialize(restarted.Snapshot().OrderBy(s => s.Key)));
    }

    [Fact]
    public void a_snapshot_captured_at_the_barrier_and_streamed_into_a_state_file_later_restores_the_entries_of_the_barrier_into_either_backend()
    {
        var disk = DiskStore<string>();
        var counts = disk.GetValueState<long>("count");
        var seen = disk.GetMapState<int, string>("seen");
        foreach (string key in new[] { "a", "b", "c" })
        {
            disk.CurrentKey = key;
            counts.Value = key[0];
            seen.Put(1, key + "1");
            seen.Put(2, key + "2");
        }
        var timers = disk.CreateTimerQueue("event");
        timers.Register("a", 50);
        timers.Register("c", -7);

        string atBarrier = System.Text.Json.JsonSerializer.Serialize(disk.Snapshot().OrderBy(s => s.Key));

        // Captured at the barrier; the task goes on changing its state before (and while) the file is written.
        string file = Path.Combine(_directory, "checkpoints", Quill.Streams.Checkpoints.StateFiles.RelativePath(3, "process/2", 1));
        using (var capture = disk.CaptureForFile()!)
        {
            disk.CurrentKey = "a";
            counts.Value = 1000;
            seen.Remove(1);
            disk.CurrentKey = "d";
            counts.Value = 4;
            timers.Register("d", 60);
            timers.Delete("c", -7);
            disk.GetValueState<string>("registered-later").Value = "after the barrier";
            Quill.Streams.Checkpoints.StateFiles.Write(file, capture.States, capture.Timers("event"), capture.Timers("processing"));
        }
        Assert.EndsWith(Path.Combine("chk-0000000000000000003.state", "process_2-1.jsonl"), file);

        foreach (var restored in new IKeyedStateStore<string>[] { new KeyedStateStore<string>(), DiskStore<string>() })
        {
            restored.Restore(Quill.Streams.Checkpoints.StateFiles.ReadStates(file), key => key != "b");
            restored.CurrentKey = "c";
            Assert.Equal('c', restored.GetValueState<long>("count").Value);
            Assert.Equal(new Dictionary<int, string> { [1] = "c1", [2] = "c2" }, restored.GetMapState<int, string>("seen").Entries);
            restored.CurrentKey = "b";
            Assert.False(restored.GetValueState<long>("count").HasValue);
            // What changed after the capture is not in the file.
            restored.CurrentKey = "a";
            Assert.Equal('a', restored.GetValueState<long>("count").Value);
            Assert.Equal(new Dictionary<int, string> { [1] = "a1", [2] = "a2" }, restored.GetMapState<int, string>("seen").Entries);
            restored.CurrentKey = "d";
            Assert.False(restored.GetValueState<long>("count").HasValue);
        }
        Assert.DoesNotContain("registered-later", Quill.Streams.Checkpoints.StateFiles.ReadStates(file).Select(e => e.Name));
        Assert.Equal(["a@50", "c@-7"], Quill.Streams.Checkpoints.StateFiles.ReadTimers(file, eventTime: true)
            .Select(t => $"{t[0].GetString()}@{t[1].GetInt64()}").Order());
        Assert.Empty(Quill.Streams.Checkpoints.StateFiles.ReadTimers(file, eventTime: false));
        // The same entries as the snapshot held whole at the barrier.
        Assert.Equal(atBarrier,
            System.Text.Json.JsonSerializer.Serialize(Quill.Streams.Checkpoints.StateFiles.ReadStates(file).GroupBy(e => e.Name)
                .ToDictionary(g => g.Key, g => g.Select(e => e.Entry).ToList()).OrderBy(s => s.Key)));
    }

    [Fact]
    public void values_and_map_entries_with_a_time_to_live_expire_on_disk_as_in_memory_and_keep_their_times_across_a_restore()
    {
        long now = 0;
        var store = DiskStore<string>(() => now);
        var ttl = new StateTtlConfig(TimeSpan.FromSeconds(10));
        var map = store.GetMapState<string, int>("map", ttl);
        var value = store.GetValueState<string>("value", ttl);
        var refreshedOnRead = store.GetValueState<string>("read", new StateTtlConfig(TimeSpan.FromSeconds(10), StateTtlUpdateType.OnReadAndWrite));
        store.CurrentKey = "a";
        map.Put("old", 1);
        value.Value = "written at 0";
        refreshedOnRead.Value = "kept by reading";
        now = 6_000;
        map.Put("new", 2);
        Assert.True(refreshedOnRead.HasValue);

        now = 10_000; // written 10 s ago: gone; "new" 4 s ago
        Assert.False(value.HasValue);
        Assert.Equal(new Dictionary<string, int> { ["new"] = 2 }, map.Entries);
        Assert.False(map.TryGetValue("old", out _));
        var snapshot = store.Snapshot();
        Assert.Empty(snapshot["value"]);

        // Into memory and onto disk again: the entry keeps its write time (6 s), so it expires at 16 s in both.
        var memory = new KeyedStateStore<string>(() => now);
        memory.Restore([snapshot], _ => true);
        var memoryMap = memory.GetMapState<string, int>("map", ttl);
        var disk = DiskStore<string>(() => now);
        disk.Restore([memory.Snapshot()], _ => true);
        var diskMap = disk.GetMapState<string, int>("map", ttl);
        memory.CurrentKey = disk.CurrentKey = "a";
        Assert.Equal(new Dictionary<string, int> { ["new"] = 2 }, diskMap.Entries);

        now = 15_000;
        Assert.Equal("kept by reading", refreshedOnRead.Value); // read at 6 s, so alive until 16 s; read again
        Assert.True(diskMap.TryGetValue("new", out _));
        now = 16_000;
        Assert.Empty(memoryMap.Entries);
        Assert.Empty(diskMap.Entries);
        Assert.Empty(disk.Snapshot()["map"]);
        now = 24_000;
        Assert.True(refreshedOnRead.HasValue);
        now = 35_000;
        Assert.False(refreshedOnRead.HasValue);
    }

    [Theory]
    [InlineData("memory", "disk")]
    [InlineData("disk", "memory")]
    public void list_elements_with_a_time_to_live_expire_one_by_one_and_a_reduced_value_as_a_whole_in_either_backend_and_across_a_restore(
        string backend, string restoredInto)
    {
        long now = 0;
        IKeyedStateStore<string> Store(string kind) => kind == "disk" ? DiskStore<string>(() => now) : new KeyedStateStore<string>(() => now);
        var ttl = new StateTtlConfig(TimeSpan.FromSeconds(10));
        var readTtl = new StateTtlConfig(TimeSpan.FromSeconds(10), StateTtlUpdateType.OnReadAndWrite);
        static int Sum(int a, int b) => a + b;
        var store = Store(backend);
        var list = store.GetListState<string>("list", ttl);
        var sum = store.GetReducingState<int>("sum", Sum, ttl);
        var readList = store.GetListState<string>("read-list", readTtl);
        var readSum = store.GetReducingState<int>("read-sum", Sum, readTtl);
        store.CurrentKey = "a";
        list.Add("at 0");
        sum.Add(1);
        readList.Add("kept by reading");
        readSum.Add(10);
        store.CurrentKey = "b";
        list.Add("b at 0");
        now = 6_000;
        store.CurrentKey = "a";
        list.Add("at 6");
        sum.Add(2); // a write: the sum (3) now lives until 16 s
        Assert.Equal(["kept by reading"], readList.Get()); // read at 6 s: lives until 16 s
        Assert.Equal(10, readSum.Value);

        now = 10_000; // 10 s after 0: the first element and b's only one are gone, the one added at 6 s is not
        Assert.Equal(["at 6"], list.Get());
        Assert.Equal(3, sum.Value);
        var snapshot = store.Snapshot();
        Assert.Equal(["a"], snapshot["list"].Select(e => e[0].GetString())); // b's list has only expired elements
        var restored = Store(restoredInto);
        restored.Restore([snapshot], _ => true);
        var restoredList = restored.GetListState<string>("list", ttl);
        var restoredSum = restored.GetReducingState<int>("sum", Sum, ttl);
        restored.CurrentKey = "a";
        Assert.Equal(["at 6"], restoredList.Get());
        Assert.Equal(3, restoredSum.Value);

        now = 15_000;
        store.CurrentKey = "a";
        Assert.Equal(["kept by reading"], readList.Get()); // read again: lives until 25 s
        Assert.Equal(10, readSum.Value);
        list.Add("at 15");
        now = 16_000; // 10 s after the last writes at 6 s, in both stores: the restore kept each element's time
        Assert.Equal(["at 15"], list.Get());
        Assert.Empty(restoredList.Get());
        Assert.False(sum.HasValue);
        Assert.False(restoredSum.HasValue);
        sum.Add(5); // adding to an expired value starts anew
        Assert.Equal(5, sum.Value);
        list.Update(["x", "y"]);
        Assert.Empty(restored.Snapshot()["list"]);

        now = 24_000;
        Assert.Equal(["kept by reading"], readList.Get());
        Assert.True(readSum.HasValue);
        now = 26_000; // the update and the new sum were written at 16 s; the ones kept by reading were read at 24 s
        Assert.Empty(list.Get());
        Assert.False(sum.HasValue);
        Assert.Equal(["kept by reading"], readList.Get());
        now = 36_000;
        Assert.Empty(readList.Get());
        Assert.False(readSum.HasValue);
        Assert.All(store.Snapshot().Values, entries => Assert.Empty(entries));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("disk")]
    public void expired_state_of_keys_never_accessed_again_is_cleaned_up_in_the_background_as_the_state_is_used(string backend)
    {
        long now = 0;
        var memory = backend == "memory" ? new KeyedStateStore<string>(() => now) : null;
        var disk = backend == "disk" ? DiskStore<string>(() => now) : null;
        IKeyedStateStore<string> store = (IKeyedStateStore<string>?)memory ?? disk!;
        int Held(string name) => memory?.KeyCount(name) ?? disk!.EntryCount(name);
        var ttl = new StateTtlConfig(TimeSpan.FromSeconds(10));
        var value = store.GetValueState<int>("value", ttl);
        var list = store.GetListState<int>("list", ttl);
        var map = store.GetMapState<string, int>("map", ttl);
        var sum = store.GetReducingState<int>("sum", (a, b) => a + b, ttl);
        void WriteAll(string key, int i)
        {
            store.CurrentKey = key;
            value.Value = i;
            list.Add(i);
            map.Put("m", i);
            sum.Add(i);
        }
        // 2,000 keys written at 0 s and never again; 100 written at 9 s.
        for (int i = 0; i < 2_000; i++) WriteAll($"old-{i}", i);
        now = 9_000;
        for (int i = 0; i < 100; i++) WriteAll($"recent-{i}", i);
        string[] names = ["value", "list", "map", "sum"];
        Assert.All(names, name => Assert.Equal(2_100, Held(name)));

        // At 12 s the old keys have expired; one other key is used (five cleanup checks per access: 2,100 keys take 420).
        now = 12_000;
        for (int i = 0; i < 1_000; i++) WriteAll("busy", i);
        Assert.All(names, name => Assert.Equal(101, Held(name)));
        store.CurrentKey = "recent-7";
        Assert.Equal(7, value.Value);
        Assert.Equal([7], list.Get());
        Assert.Equal(7, sum.Value);
    }

    [Fact]
    public void more_keys_than_the_cache_holds_go_to_files_while_the_cache_and_write_buffers_stay_within_their_bounds()
    {
        const long cache = 1 << 20;
        const int keys = 100_000;
        var run = OpenRun(cacheBytes: cache);
        var store = (DiskKeyedStateStore<string>)run.CreateKeyedStore<string>("op-1", 0, () => 0);
        var counter = store.GetValueState<long>("count");
        static string Name(int i) // 96 random hex digits per key: compresses to about half, not to nothing
        {
            var bytes = new byte[48];
            new Random(i).NextBytes(bytes);
            return Convert.ToHexString(bytes);
        }
        var names = store.GetValueState<string>("name");
        for (int round = 0; round < 2; round++)
        {
            for (int i = 0; i < keys; i++)
            {
                store.CurrentKey = $"key-{i}";
                counter.Value += 1;
                if (round == 0) names.Value = Name(i);
            }
        }

        var db = run.Db;
        Assert.Equal(cache, db.CacheBytes);
        long memTables = db.LongProperty("rocksdb.cur-size-all-mem-tables");
        Assert.InRange(memTables, 0, 2 * db.WriteBufferBytes + (256 << 10)); // two write buffers (and the arena block in use)
        Assert.InRange(db.CacheUsage, 0, cache);
        db.Flush();
        long files = db.LongProperty("rocksdb.total-sst-files-size");
        Assert.True(files > 3 * cache, $"{files} bytes in files, expected more than 3x the {cache}-byte cache");

        // Reading every key back goes through the cache, which still holds no more than its capacity.
        for (int i = 0; i < keys; i++)
        {
            store.CurrentKey = $"key-{i}";
            Assert.Equal(2, counter.Value);
        }
        store.CurrentKey = "key-77";
        Assert.Equal(Name(77), names.Value);
        Assert.InRange(db.CacheUsage, 1, cache);
        Assert.Equal(keys, store.Snapshot()["count"].Count);
    }

    /// <summary>
    /// Timers on disk behave as the heap's queue under the same random registrations, deletions and takings (negative
    /// times included, which must sort first), come out in time order, and list the same timers for a checkpoint.
    /// </summary>
    [Fact]
    public void timers_on_disk_come_due_in_time_order_exactly_as_the_heap_queue_under_random_operations()
    {
        var store = DiskStore<string>();
        var disk = store.CreateTimerQueue("event");
        var other = store.CreateTimerQueue("processing"); // another domain of the same operator: never mixed in
        var heap = new Quill.Streams.Time.TimerQueue<string>();
        var random = new Random(11);
        long watermark = -1_000;
        int taken = 0;
        for (int step = 0; step < 5_000; step++)
        {
            string key = $"k{random.Next(50)}";
            long time = watermark + random.Next(-50, 2_000);
            switch (random.Next(10))
            {
                case < 5:
                    disk.Register(key, time);
                    heap.Register(key, time);
                    other.Register(key, time + 7);
                    break;
                case < 7:
                    disk.Delete(key, time);
                    heap.Delete(key, time);
                    break;
                default:
                    watermark += random.Next(0, 300);
                    while (true)
                    {
                        bool fromHeap = heap.TryTakeDue(watermark, out string heapKey, out long heapTime);
                        Assert.Equal(fromHeap, disk.TryTakeDue(watermark, out string diskKey, out long diskTime));
                        if (!fromHeap) break;
                        // Both give the earliest due timer; among equal times the order may differ, so compare times and sets.
                        Assert.Equal(heapTime, diskTime);
                        if (heapKey != diskKey)
                        {
                            // Make the disk queue's taking the heap's: give back the one it took, take the heap's.
                            disk.Register(diskKey, diskTime);
                            disk.Delete(heapKey, heapTime);
                        }
                        taken++;
                    }
                    break;
            }
            Assert.Equal(heap.TryPeekTime(out long heapNext), disk.TryPeekTime(out long diskNext));
            Assert.Equal(heapNext, diskNext);
        }
        Assert.True(taken > 100, $"only {taken} timers came due");
        Assert.Equal(heap.Registered.Order(), disk.Registered.Order());
        Assert.NotEqual(disk.Registered.Order(), other.Registered.Order());
        // Nothing of the timers is on the heap: they are entries of the store's database.
        Assert.Contains(store.Scan(store.PrefixOf("event", Quill.Streams.State.Disk.DiskStateKeys.TimerTag)), _ => true);
    }
}
