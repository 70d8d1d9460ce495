using Quill.Streams.State;

namespace Quill.Streams.Tests;

/// <summary>Keyed state kinds: one value per key, and a snapshot restored into another store keeps only owned keys.</summary>
public sealed class KeyedStateTests
{
    [Fact]
    public void each_state_kind_keeps_a_separate_value_per_key()
    {
        var store = new KeyedStateStore<string>();
        var value = store.GetValueState<(string, int)>("value");
        var list = store.GetListState<int>("list");
        var map = store.GetMapState<string, long>("map");
        var sum = store.GetReducingState<long>("sum", (a, b) => a + b);

        store.CurrentKey = "a";
        value.Value = ("x", 1);
        list.Add(1);
        list.Add(2);
        map.Put("k", 10);
        sum.Add(3);
        sum.Add(4);
        store.CurrentKey = "b";
        Assert.False(value.HasValue);
        Assert.Empty(list.Get());
        Assert.Empty(map.Entries);
        Assert.False(sum.HasValue);
        sum.Add(100);

        store.CurrentKey = "a";
        Assert.Equal(("x", 1), value.Value);
        Assert.Equal([1, 2], list.Get());
        Assert.Equal(10, map.Entries["k"]);
        Assert.Equal(7, sum.Value);
        Assert.Same(sum, store.GetReducingState<long>("sum", (a, b) => a + b));
        Assert.Throws<InvalidOperationException>(() => store.GetValueState<int>("sum"));
    }

    [Fact]
    public void a_restored_snapshot_fills_states_registered_before_or_after_and_keeps_only_the_owned_keys()
    {
        var store = new KeyedStateStore<string>();
        var map = store.GetMapState<string, (int, string)>("map");
        var list = store.GetListState<string>("list");
        foreach (string key in new[] { "own", "other" })
        {
            store.CurrentKey = key;
            map.Put("k", (1, key));
            list.Add(key);
        }

        var restored = new KeyedStateStore<string>();
        var restoredList = restored.GetListState<string>("list");
        restored.Restore([store.Snapshot()], key => key == "own");
        var restoredMap = restored.GetMapState<string, (int, string)>("map");

        restored.CurrentKey = "own";
        Assert.Equal((1, "own"), restoredMap.Entries["k"]);
        Assert.Equal(["own"], restoredList.Get());
        restored.CurrentKey = "other";
        Assert.Empty(restoredMap.Entries);
        Assert.Empty(restoredList.Get());
    }

    [Fact]
    public void map_entries_with_a_time_to_live_expire_one_by_one_and_checkpoints_leave_expired_ones_out()
    {
        long now = 0;
        var store = new KeyedStateStore<string>(() => now);
        var ttl = new StateTtlConfig(TimeSpan.FromSeconds(10));
        var map = store.GetMapState<string, int>("map", ttl);
        var refreshedOnRead = store.GetValueState<string>("read", new StateTtlConfig(TimeSpan.FromSeconds(10), StateTtlUpdateType.OnReadAndWrite));
        store.CurrentKey = "a";
        map.Put("old", 1);
        refreshedOnRead.Value = "kept by reading";
        now = 6_000;
        map.Put("new", 2);
        Assert.True(refreshedOnRead.HasValue);

        now = 10_000; // "old" was written 10 s ago: gone; "new" 4 s ago
        Assert.Equal(new Dictionary<string, int> { ["new"] = 2 }, map.Entries);
        Assert.False(map.TryGetValue("old", out _));
        var snapshot = store.Snapshot();
        var restored = new KeyedStateStore<string>(() => now);
        restored.Restore([snapshot], _ => true);
        var restoredMap = restored.GetMapState<string, int>("map", ttl);
        restored.CurrentKey = "a";
        Assert.Equal(new Dictionary<string, int> { ["new"] = 2 }, restoredMap.Entries);

        now = 15_000;
        Assert.Equal("kept by reading", refreshedOnRead.Value); // read at 6 s (written at 0), so alive until 16 s; read again
        now = 16_000; // the restored entry kept its write time: 10 s after it, it expires too
        Assert.Empty(restoredMap.Entries);
        now = 24_000;
        Assert.True(refreshedOnRead.HasValue);
        now = 35_000;
        Assert.False(refreshedOnRead.HasValue);
        Assert.Throws<InvalidOperationException>(() => store.GetMapState<string, int>("map"));
    }
}
