using System.Threading.Channels;
using Quill.Streams.Runtime;
using Quill.Streams.Time;

namespace Quill.Streams.Tests;

/// <summary>
/// How a shuffle batches records to the mailboxes in its process, and how a keyed task takes batches apart: records
/// keep their order on every channel, control elements never overtake a record, and nothing stays in a batch once the
/// sender flushes (no broker needed).
/// </summary>
public sealed class KeyedShuffleTests
{
    private static List<StreamElement<string>> Drain(Channel<StreamElement<string>> mailbox)
    {
        var elements = new List<StreamElement<string>>();
        while (mailbox.Reader.TryRead(out var element)) elements.Add(element);
        return elements;
    }

    /// <summary>What a mailbox received, each batch opened up, as "kind value" lines.</summary>
    private static List<string> Describe(IEnumerable<StreamElement<string>> elements) =>
    [
        .. elements.SelectMany(e => e.Kind switch
        {
            ElementKind.Record => [$"record {e.Value}"],
            ElementKind.RecordBatch => Enumerable.Range(0, e.Batch!.Count).Select(i => $"record {e.Batch.ValueAt(i)}"),
            _ => [$"{e.Kind} {e.Marker}"],
        }),
    ];

    [Fact]
    public async Task records_go_in_batches_of_the_batch_size_and_the_rest_goes_before_a_control_element()
    {
        var mailbox = Channel.CreateUnbounded<StreamElement<string>>();
        var shuffle = new KeyedShuffle<int, string>(_ => 0, [mailbox.Writer], sender: 3, CancellationToken.None, batchSize: 4, local: [true]);

        for (int i = 0; i < 6; i++) await shuffle.RecordAsync($"r{i}", i);
        var sent = Drain(mailbox);
        Assert.Equal([ElementKind.RecordBatch], sent.Select(e => e.Kind)); // the first four, as one element; two wait

        await shuffle.BarrierAsync(9);
        sent.AddRange(Drain(mailbox));
        Assert.Equal(["record r0", "record r1", "record r2", "record r3", "record r4", "record r5", "Barrier 9"], Describe(sent));
        Assert.All(sent, e => Assert.Equal(3, e.Sender));
    }

    [Fact]
    public async Task a_flush_sends_what_waits_and_a_single_record_goes_as_a_plain_record()
    {
        var mailboxes = new[] { Channel.CreateUnbounded<StreamElement<string>>(), Channel.CreateUnbounded<StreamElement<string>>() };
        var shuffle = new KeyedShuffle<int, string>(v => v.StartsWith('a') ? 0 : 1, [.. mailboxes.Select(m => m.Writer)], sender: 0,
            CancellationToken.None, batchSize: 8, local: [true, true]);

        await shuffle.RecordAsync("a1", 1);
        await shuffle.RecordAsync("b1", 2);
        await shuffle.RecordAsync("a2", 3);
        Assert.Empty(Drain(mailboxes[0]));
        Assert.Empty(Drain(mailboxes[1]));

        await shuffle.FlushAsync();
        var first = Drain(mailboxes[0]);
        var second = Drain(mailboxes[1]);
        Assert.Equal(["record a1", "record a2"], Describe(first));
        Assert.Equal([ElementKind.Record], second.Select(e => e.Kind));
        Assert.Equal(["record b1"], Describe(second));

        await shuffle.FlushAsync(); // nothing left
        Assert.Empty(Drain(mailboxes[0]));
        Assert.Empty(Drain(mailboxes[1]));
    }

    [Fact]
    public async Task a_mailbox_in_another_process_gets_each_record_as_it_comes()
    {
        var here = Channel.CreateUnbounded<StreamElement<string>>();
        var remote = Channel.CreateUnbounded<StreamElement<string>>();
        var shuffle = new KeyedShuffle<int, string>(v => v.StartsWith('h') ? 0 : 1, [here.Writer, remote.Writer], sender: 0,
            CancellationToken.None, batchSize: 8, local: [true, false]);

        await shuffle.RecordAsync("h1", 0);
        await shuffle.RecordAsync("r1", 0);
        await shuffle.RecordAsync("r2", 0);

        Assert.Empty(Drain(here));
        Assert.Equal([ElementKind.Record, ElementKind.Record], Drain(remote).Select(e => e.Kind));
    }

    [Fact]
    public async Task a_keyed_task_pushes_a_batchs_records_in_order_and_holds_a_batch_behind_its_senders_barrier()
    {
        var mailbox = Channel.CreateUnbounded<StreamElement<string>>();
        var from0 = new KeyedShuffle<int, string>(_ => 0, [mailbox.Writer], sender: 0, CancellationToken.None, batchSize: 2, local: [true]);
        var from1 = new KeyedShuffle<int, string>(_ => 0, [mailbox.Writer], sender: 1, CancellationToken.None, batchSize: 2, local: [true]);

        await from0.RecordAsync("a", 1);
        await from0.RecordAsync("b", 2); // a full batch
        await from0.BarrierAsync(5);
        await from0.RecordAsync("after-barrier-1", 3);
        await from0.RecordAsync("after-barrier-2", 4); // a full batch behind sender 0's barrier
        await from1.RecordAsync("c", 5);
        await from1.BarrierAsync(5); // flushes "c" first
        await from0.EndAsync();
        await from1.EndAsync();

        var chain = new RecordingChain(timestamps: true);
        var task = new KeyedTask<string>(mailbox, 2, TimeProvider.System, checkpoints: null) { Chain = chain };
        await task.RunAsync(CancellationToken.None, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        task.Finish(completed: true);

        Assert.Equal(["record a@1", "record b@2", "record c@5", "barrier 5", "record after-barrier-1@3", "record after-barrier-2@4", "end"],
            chain.Events);
    }

    [Fact]
    public async Task a_keyed_task_flushes_its_chain_when_its_mailbox_is_empty_so_the_next_stage_gets_a_partial_batch()
    {
        // Two keyed stages: the first task's chain ends in a shuffle batching 16 at a time; it gets three records and is
        // then left waiting (no end): the three must reach the next mailbox without more input.
        var first = Channel.CreateUnbounded<StreamElement<string>>();
        var next = Channel.CreateUnbounded<StreamElement<string>>();
        var task = new KeyedTask<string>(first, 1, TimeProvider.System, checkpoints: null)
        {
            Chain = new KeyedShuffle<int, string>(_ => 0, [next.Writer], sender: 0, CancellationToken.None, batchSize: 16, local: [true]),
        };
        using var abort = new CancellationTokenSource();
        var running = task.RunAsync(CancellationToken.None, abort.Token);
        foreach (string value in new[] { "x", "y", "z" }) await first.Writer.WriteAsync(StreamElement<string>.Record(value, 0, 0));

        var received = new List<StreamElement<string>>();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (Describe(received).Count < 3) received.Add(await next.Reader.ReadAsync(deadline.Token));
        Assert.Equal(["record x", "record y", "record z"], Describe(received));

        abort.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        task.Finish(completed: false);
    }
}
