using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Quill.Broker;

/// <summary>
/// A single-writer event loop (Kafka's CoordinatorRuntime event processor, ControllerEventManager): events are run
/// one at a time, in the order they were posted, by one logical thread. The state an owner keeps behind its loop is
/// only touched by events, so it needs no lock; anything an event awaits (a log append, a Keeper call) holds up this
/// loop only, never another owner's. A failing event is logged and the loop carries on.
/// </summary>
public sealed class EventLoop : IAsyncDisposable
{
    private readonly Channel<Func<Task>> _events = Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly string _name;
    private readonly ILogger _log;
    private readonly Task _loop;
    private long _posted;

    public EventLoop(string name, ILogger log)
    {
        _name = name;
        _log = log;
        // Events must not carry the async locals of whichever request started the loop.
        using (ExecutionContext.SuppressFlow()) _loop = Task.Run(RunAsync);
    }

    /// <summary>Runs <paramref name="work"/> on the loop; its result or exception completes the task (off the loop).</summary>
    public Task<T> RunAsync<T>(Func<Task<T>> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool posted = Post(async () =>
        {
            try
            {
                done.TrySetResult(await work());
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        });
        if (!posted) done.TrySetException(new ObjectDisposedException(_name, $"the {_name} event loop has stopped"));
        return done.Task;
    }

    public Task<T> Run<T>(Func<T> work) => RunAsync(() => Task.FromResult(work()));

    public Task RunAsync(Func<Task> work) => RunAsync(async () =>
    {
        await work();
        return true;
    });

    /// <summary>Queues an event nobody waits for (a timer fired, a watch triggered); false once the loop has stopped.</summary>
    public bool Post(Func<Task> work)
    {
        if (!_events.Writer.TryWrite(work)) return false;
        Interlocked.Increment(ref _posted);
        return true;
    }

    public bool Post(Action work) => Post(() =>
    {
        work();
        return Task.CompletedTask;
    });

    private async Task RunAsync()
    {
        await foreach (var work in _events.Reader.ReadAllAsync())
        {
            try
            {
                await work();
            }
            catch (Exception e)
            {
                _log.LogError(e, "An event of {Loop} failed", _name);
            }
        }
    }

    /// <summary>
    /// Completes once every event posted so far has run, and every event those posted in turn (a timer armed for a
    /// deadline already past fires at once): tests that drive a fake clock wait for it before they look.
    /// </summary>
    internal async Task WhenIdleAsync()
    {
        while (true)
        {
            long before = Interlocked.Read(ref _posted);
            await Run(() => true).ConfigureAwait(false);
            if (Interlocked.Read(ref _posted) == before + 1) return;
        }
    }

    /// <summary>Takes no more events, runs those already queued, and waits for the loop to end.</summary>
    public async ValueTask DisposeAsync()
    {
        _events.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}
