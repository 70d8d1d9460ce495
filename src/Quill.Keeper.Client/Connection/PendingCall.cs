using Quill.Keeper.Client.Watches;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Connection;

/// <summary>Work the event dispatcher runs in arrival order: a finished call, a watch event, a state change.</summary>
internal interface IDispatchItem
{
    void Dispatch();
}

internal delegate T ReplyDecoder<out T>(ref JuteReader reader);

/// <summary>
/// One request from the moment it is queued until its reply (or failure) is handed to the caller. The receive loop
/// decodes the reply into the call and posts the call to the dispatcher, which completes the caller's Task: so a
/// watch event that arrived before a reply always reaches its watcher before the reply reaches its caller.
/// </summary>
internal abstract class PendingCall(OpCode op, IJuteRecord? request, string? path, WatchRegistration? watch) : IDispatchItem
{
    /// <summary>0 until the send loop numbers it; reserved xids (auth, setWatches) are set up front.</summary>
    public int Xid { get; set; }
    public OpCode Op { get; } = op;
    public IJuteRecord? Request { get; } = request;

    /// <summary>The caller's path, named in the exception when the call fails.</summary>
    public string? Path { get; } = path;
    public WatchRegistration? Watch { get; } = watch;

    /// <summary>True once the caller has given up (cancelled): an unsent call is then skipped.</summary>
    public abstract bool IsAbandoned { get; }

    public abstract void SetReply(ErrorCode error, ref JuteReader body);
    public abstract void SetFailure(Exception error);
    public abstract void Dispatch();
}

internal sealed class PendingCall<T> : PendingCall
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ReplyDecoder<T>? _decode;
    private readonly bool _noNodeIsDefault;
    private CancellationTokenRegistration _cancellation;
    private T _result = default!;
    private Exception? _error;

    /// <param name="noNodeIsDefault">exists answers NoNode for a missing node: that is a result (null), not an error.</param>
    public PendingCall(OpCode op, IJuteRecord? request, string? path, WatchRegistration? watch, ReplyDecoder<T>? decode, bool noNodeIsDefault = false)
        : base(op, request, path, watch)
    {
        _decode = decode;
        _noNodeIsDefault = noNodeIsDefault;
    }

    public Task<T> Task => _completion.Task;
    public override bool IsAbandoned => _completion.Task.IsCompleted;

    public void CancelWith(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
            _cancellation = cancellationToken.Register(static state =>
            {
                var (call, token) = ((PendingCall<T>, CancellationToken))state!;
                call._completion.TrySetCanceled(token);
            }, (this, cancellationToken));
    }

    public override void SetReply(ErrorCode error, ref JuteReader body)
    {
        if (error == ErrorCode.Ok)
        {
            try
            {
                if (_decode is not null) _result = _decode(ref body);
            }
            catch (JuteException e)
            {
                _error = new KeeperException(ErrorCode.MarshallingError, Path);
                _error.Data["detail"] = e.Message;
            }
        }
        else if (error == ErrorCode.NoNode && _noNodeIsDefault) _result = default!;
        else _error = new KeeperException(error, Path);
    }

    public override void SetFailure(Exception error) => _error = error;

    public override void Dispatch()
    {
        _cancellation.Dispose();
        if (_error is not null) _completion.TrySetException(_error);
        else _completion.TrySetResult(_result);
    }
}
