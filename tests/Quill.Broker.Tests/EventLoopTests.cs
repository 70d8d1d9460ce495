using Microsoft.Extensions.Logging.Abstractions;

namespace Quill.Broker.Tests;

/// <summary>The single-writer loop the coordinators' shards and the controller run their events on.</summary>
public class EventLoopTests
{
    [Fact]
    public async Task Events_run_one_at_a_time_in_the_order_posted_even_when_they_await()
    {
        await using var loop = new EventLoop("test", NullLogger.Instance);
        var seen = new List<string>();
        var first = new TaskCompletionSource();
        var done = new List<Task>
        {
            loop.RunAsync(async () =>
            {
                seen.Add("1 start");
                await first.Task; // an event that waits (a Keeper call, a slow write) holds up the ones behind it
                seen.Add("1 end");
            }),
        };
        for (int i = 2; i <= 50; i++)
        {
            int n = i;
            if (n % 2 == 0) loop.Post(() => seen.Add($"{n}"));
            else done.Add(loop.Run(() => { seen.Add($"{n}"); return n; }));
        }
        first.SetResult();
        await Task.WhenAll(done).WaitAsync(TimeSpan.FromSeconds(10));
        await loop.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["1 start", "1 end", .. Enumerable.Range(2, 49).Select(n => $"{n}")], seen);
    }

    [Fact]
    public async Task A_failing_event_fails_its_caller_and_the_loop_carries_on()
    {
        await using var loop = new EventLoop("test", NullLogger.Instance);
        loop.Post(() => throw new InvalidOperationException("posted and failed"));
        var failed = loop.Run<int>(() => throw new InvalidOperationException("asked and failed"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => failed.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(42, await loop.Run(() => 42).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_stopped_loop_refuses_new_events_after_running_those_queued()
    {
        var loop = new EventLoop("test", NullLogger.Instance);
        var queued = loop.Run(() => 1);
        await loop.DisposeAsync();
        Assert.Equal(1, await queued);
        Assert.False(loop.Post(() => { }));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => loop.Run(() => 2));
    }
}
