using System.Buffers;
using System.Threading.Channels;
using Quill.Streams.Runtime;

namespace Quill.Streams.Cluster;

/// <summary>
/// One channel from a sending subtask to a keyed task in another process, seen by the shuffle as that task's mailbox:
/// elements wait in a bounded local queue, and a pump writes them to the channel's own TCP connection. The pump takes
/// everything queued at once into one buffer (up to <see cref="BatchBytes"/>) and writes it with one call, so under load
/// many records share a write, and a lone record (or a watermark, a barrier) goes at once, with no timer adding
/// latency. One connection per channel keeps TCP's flow control per channel: a slow receiver fills this queue and
/// makes only this sender wait (backpressure), as a full local mailbox would.
/// </summary>
internal sealed class RemoteChannelWriter<T> : ChannelWriter<StreamElement<T>>, IDisposable
{
    public const int BatchBytes = 64 << 10;
    private readonly Channel<StreamElement<T>> _queue;
    private readonly string _address;
    private readonly Hello _hello;
    private readonly Action<Exception> _failed;
    private readonly CancellationTokenSource _stop;
    private Stream? _connection;

    public RemoteChannelWriter(string address, Hello hello, int capacity, Action<Exception> failed, CancellationToken abort)
    {
        _address = address;
        _hello = hello;
        _failed = failed;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(abort);
        _queue = Channel.CreateBounded<StreamElement<T>>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        _ = Task.Run(PumpAsync);
    }

    public override bool TryWrite(StreamElement<T> item) => _queue.Writer.TryWrite(item);

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => _queue.Writer.WaitToWriteAsync(cancellationToken);

    public override ValueTask WriteAsync(StreamElement<T> item, CancellationToken cancellationToken = default) =>
        _queue.Writer.WriteAsync(item, cancellationToken);

    private async Task PumpAsync()
    {
        var token = _stop.Token;
        try
        {
            var stream = _connection = await DataEndpoint.ConnectAsync(_address, _hello, token);
            var reader = _queue.Reader;
            var buffer = new ArrayBufferWriter<byte>(BatchBytes * 2);
            while (await reader.WaitToReadAsync(token))
            {
                while (buffer.WrittenCount < BatchBytes && reader.TryRead(out var element)) ElementCodec.Write(element, buffer);
                await stream.WriteAsync(buffer.WrittenMemory, token);
                buffer.ResetWrittenCount();
            }
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            _queue.Writer.TryComplete(new OperationCanceledException("the generation ended"));
        }
        catch (Exception e)
        {
            var failure = new IOException($"sending to {_address} ({_hello}) failed: {e.Message}", e);
            _queue.Writer.TryComplete(failure);
            _failed(failure);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _connection?.Dispose();
    }
}
