using System.IO.Pipelines;

namespace Quill.Network;

/// <summary>
/// A connection's outgoing bytes: frames are queued from any thread (a request pipeline answering, a watch firing)
/// in order, and one loop hands them to the connection's pipe, awaiting its flush: when the peer reads slowly the
/// flush waits, the queue grows, and <see cref="WaitForRoomAsync"/> holds back whoever produces (the request reader
/// or the answer encoder) until it is taken. Frames queued together leave in one write.
/// </summary>
public sealed class FrameOutput
{
    private readonly object _lock = new();
    private readonly SemaphoreSlim _wake = new(0);
    private byte[] _queue = new byte[4096];
    private byte[] _spare = new byte[4096];
    private int _queued;
    private int _sending;
    private bool _completed;
    private TaskCompletionSource? _room;

    /// <summary>Bytes queued or being handed to the transport, not yet taken by it.</summary>
    public int PendingBytes => Volatile.Read(ref _queued) + Volatile.Read(ref _sending);

    /// <summary>True once <see cref="Complete"/> was called or the peer is gone: further frames are dropped.</summary>
    public bool IsCompleted => Volatile.Read(ref _completed);

    /// <summary>Queues bytes (whole frames) and wakes the sender. False when the output is completed.</summary>
    public bool Write(ReadOnlySpan<byte> frames)
    {
        bool wasEmpty;
        lock (_lock)
        {
            wasEmpty = _queued == 0;
            if (!Append(frames)) return false;
        }
        // A non-empty queue already has a wake pending or a sender about to take it: one release per batch, not per frame.
        if (wasEmpty) _wake.Release();
        return true;
    }

    /// <summary>
    /// Queues bytes without waking the sender, so that answers made together leave in one write. True when the caller
    /// must call <see cref="Flush"/> soon (nothing else will wake the sender for these bytes).
    /// </summary>
    public bool WriteDeferred(ReadOnlySpan<byte> frames)
    {
        lock (_lock)
        {
            bool wasEmpty = _queued == 0;
            return Append(frames) && wasEmpty;
        }
    }

    /// <summary>Wakes the sender for bytes queued by <see cref="WriteDeferred"/>.</summary>
    public void Flush() => _wake.Release();

    private bool Append(ReadOnlySpan<byte> frames)
    {
        if (_completed) return false;
        if (_queued + frames.Length > _queue.Length)
            Array.Resize(ref _queue, Math.Max(_queue.Length * 2, _queued + frames.Length));
        frames.CopyTo(_queue.AsSpan(_queued));
        Volatile.Write(ref _queued, _queued + frames.Length);
        return true;
    }

    /// <summary>No more frames: the sender ends once what is queued has been handed over.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            if (_completed) return;
            _completed = true;
        }
        _wake.Release();
        SignalRoom();
    }

    /// <summary>Returns when at most <paramref name="maxPendingBytes"/> are waiting (or the output is completed). One waiter at a time.</summary>
    public async ValueTask WaitForRoomAsync(int maxPendingBytes)
    {
        while (true)
        {
            var room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // Published before the check (a full fence): the sender either sees it or has already made room.
            Interlocked.Exchange(ref _room, room);
            if (PendingBytes <= maxPendingBytes || IsCompleted) return;
            await room.Task.ConfigureAwait(false);
        }
    }

    private void SignalRoom() => Interlocked.Exchange(ref _room, null)?.TrySetResult();

    /// <summary>
    /// Sends until <see cref="Complete"/> and the queue is empty, or the transport is closed. Returns false when the
    /// peer went away (or the connection was aborted) before everything was sent.
    /// </summary>
    public async Task<bool> SendAsync(PipeWriter transport)
    {
        try
        {
            while (true)
            {
                byte[] chunk;
                int length;
                lock (_lock)
                {
                    length = _queued;
                    if (length == 0 && _completed) return true;
                    if (length > 0)
                    {
                        chunk = _queue;
                        _queue = _spare;
                        _spare = chunk;
                        Volatile.Write(ref _sending, length);
                        Volatile.Write(ref _queued, 0);
                    }
                    else chunk = _queue;
                }
                if (length == 0)
                {
                    await _wake.WaitAsync().ConfigureAwait(false);
                    continue;
                }
                // Completes when the transport is below its buffer limit: this is where a slow reader is felt.
                var result = await transport.WriteAsync(chunk.AsMemory(0, length)).ConfigureAwait(false);
                Volatile.Write(ref _sending, 0);
                SignalRoom();
                if (result.IsCompleted || result.IsCanceled) return false;
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            lock (_lock) _completed = true;
            Volatile.Write(ref _sending, 0);
            Volatile.Write(ref _queued, 0);
            SignalRoom();
        }
    }
}
