using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Quill.Keeper.Client.Connection;

/// <summary>
/// Runs watcher callbacks, state-change handlers and call completions one at a time, in the order the connection
/// produced them (ZooKeeper's Java client has the same single event thread). User code never runs on the socket
/// loop, so a slow watcher delays other watchers but not the connection or its pings.
/// </summary>
internal sealed class EventDispatcher
{
    private readonly Channel<IDispatchItem> _items = Channel.CreateUnbounded<IDispatchItem>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly ILogger _logger;

    public EventDispatcher(ILogger logger)
    {
        _logger = logger;
        Completion = Task.Run(RunAsync);
    }

    public Task Completion { get; }

    /// <summary>True while the current thread runs a dispatched item (a callback must not wait for the dispatcher).</summary>
    public static bool IsDispatching => t_dispatching;

    [ThreadStatic]
    private static bool t_dispatching;

    public void Post(IDispatchItem item)
    {
        // After Complete a call must still finish (its caller is waiting); anything else is dropped.
        if (!_items.Writer.TryWrite(item) && item is PendingCall) item.Dispatch();
    }

    /// <summary>
    /// Completes once everything posted before it has been dispatched (at once if the dispatcher has stopped).
    /// </summary>
    public Task DrainedAsync()
    {
        var marker = new Marker();
        if (!_items.Writer.TryWrite(marker)) return Task.CompletedTask;
        return marker.Reached.Task;
    }

    private sealed class Marker : IDispatchItem
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Dispatch() => Reached.TrySetResult();
    }

    /// <summary>Runs what is queued, then stops.</summary>
    public void Complete() => _items.Writer.TryComplete();

    private async Task RunAsync()
    {
        await foreach (var item in _items.Reader.ReadAllAsync())
        {
            t_dispatching = true;
            try
            {
                item.Dispatch();
            }
            catch (Exception e)
            {
                _logger.LogError(e, "A watcher or state handler threw");
            }
            finally
            {
                t_dispatching = false;
            }
        }
    }
}
