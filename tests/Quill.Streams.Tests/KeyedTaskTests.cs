using System.Threading.Channels;
using Quill.Streams.Runtime;
using Quill.Streams.Time;

namespace Quill.Streams.Tests;

/// <summary>How a keyed task combines what its senders send: watermarks, aligned barriers, the end (no broker needed).</summary>
public sealed class KeyedTaskTests
{
    private static async Task<List<string>> RunAsync(int senders, params StreamElement<string>[] elements)
    {
        var mailbox = Channel.CreateUnbounded<StreamElement<string>>();
        foreach (var element in elements) mailbox.Writer.TryWrite(element);
        var chain = new RecordingChain();
        var task = new KeyedTask<string>(mailbox, senders, TimeProvider.System, checkpoints: null) { Chain = chain };
        await task.RunAsync(CancellationToken.None, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        task.Finish(completed: true);
        return chain.Events;
    }

    private static StreamElement<string> Record(string value, int sender) => StreamElement<string>.Record(value, 0, sender);
    private static StreamElement<string> Control(ElementKind kind, long marker, int sender) => StreamElement<string>.Control(kind, marker, sender);

    [Fact]
    public async Task the_chain_sees_the_minimum_watermark_of_the_senders_an_ended_one_holding_its_last_and_ends_when_all_have_ended()
    {
        var events = await RunAsync(2,
            Control(ElementKind.Watermark, 10, 0), Control(ElementKind.Watermark, 5, 1), Control(ElementKind.Watermark, 20, 1),
            Control(ElementKind.End, 0, 0), Control(ElementKind.Watermark, 30, 1), Record("last", 1), Control(ElementKind.End, 0, 1));

        // Sender 0 ended at 10: a stop moves no event time, so sender 1 going on to 30 does not take the chain past 10.
        Assert.Equal(["watermark 5", "watermark 10", "record last", "end"], events);
    }

    [Fact]
    public async Task after_a_senders_barrier_its_records_wait_until_every_sender_has_sent_that_barrier()
    {
        var events = await RunAsync(2,
            Record("a0", 0), Control(ElementKind.Barrier, 1, 0), Record("b0-after-barrier", 0),
            Record("c1", 1), Control(ElementKind.Barrier, 1, 1), Record("d1-after-barrier", 1),
            Control(ElementKind.End, 0, 0), Control(ElementKind.End, 0, 1));

        Assert.Equal(["record a0", "record c1", "barrier 1", "record b0-after-barrier", "record d1-after-barrier", "end"], events);
    }

    [Fact]
    public async Task a_barrier_waiting_only_for_a_sender_that_ends_goes_on_at_that_end()
    {
        var events = await RunAsync(2,
            Control(ElementKind.Barrier, 7, 0), Record("held", 0), Record("x1", 1), Control(ElementKind.End, 0, 1),
            Control(ElementKind.End, 0, 0));

        Assert.Equal(["record x1", "barrier 7", "record held", "end"], events);
    }

    [Fact]
    public async Task an_idle_sender_stops_holding_back_the_watermark_until_it_is_active_again_and_all_idle_makes_the_task_idle()
    {
        var events = await RunAsync(2,
            Control(ElementKind.Watermark, 10, 0), Control(ElementKind.Watermark, 50, 1),
            Control(ElementKind.WatermarkStatus, (long)WatermarkStatus.Idle, 0),
            Control(ElementKind.Watermark, 60, 1),
            // Active again with an older watermark: it counts again, so event time waits for it to catch up.
            Control(ElementKind.WatermarkStatus, (long)WatermarkStatus.Active, 0), Record("from-0", 0),
            Control(ElementKind.Watermark, 70, 1), Control(ElementKind.Watermark, 65, 0),
            // Both idle: the furthest watermark goes on, then the task itself is idle; a record brings it back.
            Control(ElementKind.WatermarkStatus, (long)WatermarkStatus.Idle, 0), Control(ElementKind.WatermarkStatus, (long)WatermarkStatus.Idle, 1),
            Control(ElementKind.WatermarkStatus, (long)WatermarkStatus.Active, 1), Record("from-1", 1),
            Control(ElementKind.End, 0, 0), Control(ElementKind.End, 0, 1));

        Assert.Equal(
        [
            "watermark 10", "watermark 50", "watermark 60", "record from-0", "watermark 65", "watermark 70", "status Idle",
            "status Active", "record from-1", "end",
        ], events);
    }

    [Fact]
    public async Task the_chain_hears_a_table_is_loaded_once_as_many_senders_as_the_table_has_subtasks_said_so_each_behind_its_barrier()
    {
        // Senders 0 and 1 are the stream, 2 and 3 the table's two subtasks (marker: 2).
        var events = await RunAsync(4,
            Record("s0", 0), Control(ElementKind.TableLoaded, 2, 2), Control(ElementKind.TableLoaded, 2, 2),
            Control(ElementKind.Barrier, 1, 3), Control(ElementKind.TableLoaded, 2, 3), Record("s1", 1),
            Control(ElementKind.Barrier, 1, 0), Control(ElementKind.Barrier, 1, 1), Control(ElementKind.Barrier, 1, 2),
            Control(ElementKind.End, 0, 0), Control(ElementKind.End, 0, 1), Control(ElementKind.End, 0, 2), Control(ElementKind.End, 0, 3));

        // Sender 2's second marker counts once; sender 3's waits behind its barrier, so the table is loaded after it.
        Assert.Equal(["record s0", "record s1", "barrier 1", "table loaded 2", "end"], events);
    }
}
