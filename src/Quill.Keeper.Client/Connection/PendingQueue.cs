namespace Quill.Keeper.Client.Connection;

/// <summary>
/// Calls written to one connection and not yet answered, in the order they were sent: ZooKeeper answers in that
/// order, so each reply belongs to the head of the queue. Closing it hands back what is left, to be failed.
/// </summary>
internal sealed class PendingQueue
{
    private readonly Queue<PendingCall> _calls = new();
    private bool _closed;

    public bool TryAdd(PendingCall call)
    {
        lock (_calls)
        {
            if (_closed) return false;
            _calls.Enqueue(call);
            return true;
        }
    }

    public PendingCall? TryDequeue()
    {
        lock (_calls) return _calls.TryDequeue(out var call) ? call : null;
    }

    public List<PendingCall> Close()
    {
        lock (_calls)
        {
            _closed = true;
            var left = _calls.ToList();
            _calls.Clear();
            return left;
        }
    }
}
