using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Cluster;
using Quill.Streams.Runtime;
using Quill.Streams.Time;

namespace Quill.Streams.Tests;

/// <summary>
/// The stream-table join's operator holds the stream's records until its table is loaded (no broker needed): updates
/// apply at once, the held records are joined in the order they came (watermarks after them), a checkpoint taken meanwhile has them, and a
/// restore at another parallelism gives each task its keys' records, held again until its own run's table is loaded.
/// </summary>
public sealed class TableJoinHoldTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-table-hold-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<JobContext> _contexts = [];

    public void Dispose()
    {
        foreach (var resource in _contexts.SelectMany(c => c.Resources)) resource.Dispose();
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private sealed class Clock : IProcessingTimeScheduler
    {
        public long Now => 1_000;
        public void RequestTick(long time) { }
    }

    /// <summary>Takes the operator snapshots a checkpoint would get.</summary>
    private sealed class SnapshotRelay : ICheckpointRelay
    {
        public List<OperatorSnapshot> Snapshots { get; } = [];
        public void SourceOffsets(long checkpointId, string sourceId, IEnumerable<KeyValuePair<string, long>> offsets) { }
        public void OperatorSnapshot(long checkpointId, string operatorId, OperatorSnapshot snapshot) => Snapshots.Add(snapshot);
        public void Acknowledge(long checkpointId) { }
    }

    private const string OperatorId = "process-1";

    /// <summary>A join operator of one task; <paramref name="onDisk"/>: state on disk, snapshotted into a file off the task's thread.</summary>
    private (KeyedProcessOperator<string, JoinInput<string, TableUpdate<string, string>>, string> Join, RecordingChain Output) NewJoin(
        int subtask, int parallelism, CheckpointCoordinator checkpoints, bool waitsForTable = true, AsyncSnapshots? onDisk = null)
    {
        var options = new StreamJobOptions
        {
            BootstrapServers = "127.0.0.1:1", Parallelism = parallelism,
            CheckpointDirectory = onDisk is null ? null : Path.Combine(_directory, "checkpoints"),
            StateBackend = onDisk is null ? Quill.Streams.State.StateBackend.InMemory
                : Quill.Streams.State.StateBackend.OnDisk(Path.Combine(_directory, "state-" + _contexts.Count), 1 << 20),
        };
        var context = new JobContext(options, CancellationToken.None, checkpoints);
        _contexts.Add(context);
        var output = new RecordingChain(timestamps: true);
        var join = new KeyedProcessOperator<string, JoinInput<string, TableUpdate<string, string>>, string>(
            new TableJoinFunction<string, string, string, string>((click, name) => $"{click}:{name ?? "null"}", inner: false, waitsForTable),
            input => input.IsLeft ? input.Left.Split('/')[0] : input.Right.Key, OperatorId, context,
            new TaskInfo(subtask, new Clock(), Snapshots: onDisk), output, new Dictionary<string, IStreamControl>());
        return (join, output);
    }

    private static JoinInput<string, TableUpdate<string, string>> Click(string userAndPage) => JoinInput<string, TableUpdate<string, string>>.OfLeft(userAndPage);
    private static JoinInput<string, TableUpdate<string, string>> Update(string user, string name) =>
        JoinInput<string, TableUpdate<string, string>>.OfRight(new TableUpdate<string, string>(user, false, name));

    [Fact]
    public async Task stream_records_wait_for_the_table_and_are_then_joined_in_the_order_they_came()
    {
        using var checkpoints = new CheckpointCoordinator(null, TimeSpan.FromHours(1), TimeProvider.System, restored: null);
        var (join, output) = NewJoin(0, 1, checkpoints);
        await join.RecordAsync(Click("u1/p1"), 10);
        await join.RecordAsync(Update("u1", "Ann"), 11);
        await join.RecordAsync(Click("u2/p2"), 12);
        await join.RecordAsync(Click("u1/p3"), 13);
        await join.WatermarkAsync(13);
        await join.RecordAsync(Update("u2", "Bob"), 14);
        await join.WatermarkAsync(14);
        Assert.Empty(output.Events); // the watermarks wait with the records, so that these are not late after the join

        await join.TableLoadedAsync(2);
        await join.RecordAsync(Click("u2/p4"), 15);
        await join.TableLoadedAsync(2); // nothing more to release
        Assert.Equal(["record u1/p1:Ann@10", "record u2/p2:Bob@12", "record u1/p3:Ann@13", "watermark 14", "record u2/p4:Bob@15"], output.Events);
    }

    [Fact]
    public async Task a_versioned_tables_processing_time_join_waits_for_nothing()
    {
        using var checkpoints = new CheckpointCoordinator(null, TimeSpan.FromHours(1), TimeProvider.System, restored: null);
        var (join, output) = NewJoin(0, 1, checkpoints, waitsForTable: false);
        await join.RecordAsync(Click("u1/p1"), 10);
        Assert.Equal(["record u1/p1:null@10"], output.Events);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task a_checkpoint_taken_while_records_wait_has_them_and_a_restore_at_another_parallelism_holds_each_keys_records_again(bool onDisk)
    {
        var relay = new SnapshotRelay();
        using var first = new CheckpointCoordinator(null, TimeSpan.FromHours(1), TimeProvider.System, restored: null) { Relay = relay };
        var snapshots = onDisk ? new AsyncSnapshots(() => { }) : null;
        var (join, output) = NewJoin(0, 1, first, onDisk: snapshots);
        string[] users = [.. Enumerable.Range(0, 8).Select(u => $"u{u}")];
        foreach (string user in users) await join.RecordAsync(Update(user, "name-" + user), 1);
        for (int i = 0; i < 40; i++) await join.RecordAsync(Click($"{users[i % users.Length]}/p{i}"), 100 + i);
        await join.BarrierAsync(1);
        // After the barrier: not in checkpoint 1 (on disk, its file is written after the task has gone on).
        await join.RecordAsync(Click("u1/after-barrier"), 999);
        if (snapshots is not null) await snapshots.DrainAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(["barrier 1"], output.Events);
        Assert.Single(relay.Snapshots);
        Assert.Equal(onDisk, relay.Snapshots[0].File is not null);

        // Restored at parallelism 2: each task gets its keys' waiting records and the table, and holds the records again.
        var checkpoint = new Checkpoint { Id = 1, Operators = { [OperatorId] = relay.Snapshots }, Directory = Path.Combine(_directory, "checkpoints") };
        using var restored = new CheckpointCoordinator(null, TimeSpan.FromHours(1), TimeProvider.System, checkpoint);
        var joined = new List<string>();
        for (int subtask = 0; subtask < 2; subtask++)
        {
            var (task, taskOutput) = NewJoin(subtask, 2, restored, onDisk: onDisk ? new AsyncSnapshots(() => { }) : null);
            bool ownsU0 = KeySlots.SlotOf("u0", 2) == subtask;
            if (ownsU0) await task.RecordAsync(Click("u0/late"), 500); // comes after the restored ones
            Assert.Empty(taskOutput.Events);
            await task.TableLoadedAsync(2);
            var mine = Enumerable.Range(0, 40).Where(i => KeySlots.SlotOf(users[i % users.Length], 2) == subtask)
                .Select(i => $"record {users[i % users.Length]}/p{i}:name-{users[i % users.Length]}@{100 + i}").ToList();
            if (ownsU0) mine.Add("record u0/late:name-u0@500");
            Assert.Equal(mine, taskOutput.Events);
            joined.AddRange(taskOutput.Events);
        }
        Assert.Equal(41, joined.Count);
    }
}
