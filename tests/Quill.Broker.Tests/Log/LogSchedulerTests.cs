using Microsoft.Extensions.Logging.Abstractions;
using Quill.Broker.Log;

namespace Quill.Broker.Tests.Log;

public class LogSchedulerTests
{
    [Fact]
    public async Task Each_job_runs_on_its_own_interval()
    {
        var clock = FakeClocks.New();
        var runs = new List<(string Job, long AtMs)>();
        await using var scheduler = new LogScheduler(clock, NullLogger.Instance);
        scheduler.Schedule("flush", 100, () => runs.Add(("flush", clock.NowMs - FakeClocks.StartMs)));
        scheduler.Schedule("checkpoint", 250, () => runs.Add(("checkpoint", clock.NowMs - FakeClocks.StartMs)));
        scheduler.Schedule("never", 0, () => runs.Add(("never", clock.NowMs - FakeClocks.StartMs)));
        scheduler.Start();

        // FakeTimeProvider runs timer callbacks inside Advance, so each run is seen at the moment it was due.
        for (int i = 0; i < 100; i++) clock.Advance(10);

        Assert.Equal([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000], runs.Where(r => r.Job == "flush").Select(r => r.AtMs));
        Assert.Equal([250, 500, 750, 1000], runs.Where(r => r.Job == "checkpoint").Select(r => r.AtMs));
        Assert.DoesNotContain(runs, r => r.Job == "never");
    }

    [Fact]
    public async Task A_job_that_fails_is_logged_and_runs_again_at_its_next_interval()
    {
        var clock = FakeClocks.New();
        int failures = 0, others = 0;
        await using var scheduler = new LogScheduler(clock, NullLogger.Instance);
        scheduler.Schedule("failing", 100, () =>
        {
            failures++;
            throw new IOException("disk gone");
        });
        scheduler.Schedule("other", 100, () => others++);
        scheduler.Start();
        for (int i = 0; i < 3; i++) clock.Advance(100);
        Assert.Equal((3, 3), (failures, others));
    }

    [Fact]
    public async Task Jobs_never_run_at_the_same_time_even_when_they_overrun_their_intervals()
    {
        // The real clock: jobs that take longer than their intervals would overlap on separate timers.
        int running = 0, maxRunning = 0;
        var counts = new int[3];
        await using var scheduler = new LogScheduler(TimeProvider.System, NullLogger.Instance);
        for (int j = 0; j < counts.Length; j++)
        {
            int job = j;
            scheduler.Schedule($"job{job}", 5, () =>
            {
                int now = Interlocked.Increment(ref running);
                InterlockedMax(ref maxRunning, now);
                Thread.Sleep(15);
                Interlocked.Decrement(ref running);
                Interlocked.Increment(ref counts[job]);
            });
        }
        scheduler.Start();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (counts.Any(c => Volatile.Read(ref c) < 5) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.All(counts, c => Assert.True(c >= 5, $"a job ran only {c} times"));
        Assert.Equal(1, Volatile.Read(ref maxRunning));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
