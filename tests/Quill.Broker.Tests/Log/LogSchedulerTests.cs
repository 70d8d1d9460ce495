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
    public async Task a_long_compaction_pass_holds_up_no_flush_or_checkpoint()
    {
        // The real clock: with one worker for every job, the flushes would wait until the cleaner returned.
        using var cleaning = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int flushes = 0, checkpoints = 0;
        await using var scheduler = new LogScheduler(TimeProvider.System, NullLogger.Instance);
        scheduler.Schedule("cleaner", 5, () =>
        {
            cleaning.Set();
            release.Wait(TimeSpan.FromSeconds(60));
        });
        scheduler.Schedule("flush", 5, () => Interlocked.Increment(ref flushes));
        scheduler.Schedule("checkpoint", 5, () => Interlocked.Increment(ref checkpoints));
        scheduler.Start();
        try
        {
            Assert.True(cleaning.Wait(TimeSpan.FromSeconds(30)), "the cleaner never ran");
            int flushesBefore = Volatile.Read(ref flushes), checkpointsBefore = Volatile.Read(ref checkpoints);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while ((Volatile.Read(ref flushes) < flushesBefore + 5 || Volatile.Read(ref checkpoints) < checkpointsBefore + 5) && DateTime.UtcNow < deadline)
                await Task.Delay(20);
            Assert.True(Volatile.Read(ref flushes) >= flushesBefore + 5, $"flushes while the cleaner ran: {Volatile.Read(ref flushes) - flushesBefore}");
            Assert.True(Volatile.Read(ref checkpoints) >= checkpointsBefore + 5, $"checkpoints while the cleaner ran: {Volatile.Read(ref checkpoints) - checkpointsBefore}");
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public async Task a_job_never_overlaps_itself_even_when_it_overruns_its_interval()
    {
        int running = 0, maxRunning = 0, runs = 0;
        await using var scheduler = new LogScheduler(TimeProvider.System, NullLogger.Instance);
        scheduler.Schedule("slow", 5, () =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
            Thread.Sleep(15);
            Interlocked.Decrement(ref running);
            Interlocked.Increment(ref runs);
        });
        scheduler.Start();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Volatile.Read(ref runs) < 5 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(Volatile.Read(ref runs) >= 5, $"the job ran only {Volatile.Read(ref runs)} times");
        Assert.Equal(1, Volatile.Read(ref maxRunning));
    }

    [Fact]
    public async Task stopping_waits_for_a_job_still_running()
    {
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int finished = 0;
        var scheduler = new LogScheduler(TimeProvider.System, NullLogger.Instance);
        scheduler.Schedule("long", 5, () =>
        {
            started.Set();
            release.Wait(TimeSpan.FromSeconds(60));
            Volatile.Write(ref finished, 1);
        });
        scheduler.Start();
        Assert.True(started.Wait(TimeSpan.FromSeconds(30)), "the job never ran");

        var stopping = scheduler.DisposeAsync().AsTask();
        Assert.False(stopping.IsCompleted);
        release.Set();
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, Volatile.Read(ref finished));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
