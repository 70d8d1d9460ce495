using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Tree;

namespace Quill.Keeper.Pipeline;

/// <summary>
/// What the request pipeline needs of a client connection, and all it may use: the transport (TCP today, another
/// connection layer or an in-memory channel in tests) stays behind this seam. Watch events arrive through
/// <see cref="IWatcher.Process"/>. The settable members belong to the pipeline's owner thread; sending and closing
/// are safe from any thread.
/// </summary>
public interface IClientChannel : IWatcher
{
    string RemoteIp { get; }
    string RemoteAddress { get; }
    bool IsClosed { get; }

    /// <summary>The session this connection carries, once the handshake has named one.</summary>
    Session? Session { get; set; }
    /// <summary>The identities ACLs are checked against (ip, digest, super).</summary>
    List<Id> AuthIds { get; }
    long PacketsReceived { get; set; }
    long PacketsSent { get; set; }

    /// <summary>Queues a frame and wakes the writer.</summary>
    void Send(ReadOnlySpan<byte> frame);

    /// <summary>Queues a frame without waking the writer; true when the caller must <see cref="Flush"/> soon.</summary>
    bool SendDeferred(ReadOnlySpan<byte> frame);

    /// <summary>Wakes the writer for frames queued by <see cref="SendDeferred"/>.</summary>
    void Flush();

    /// <summary>Closes after what is already queued has been sent.</summary>
    void Close();

    /// <summary>Called once per request when its answer is queued or it was dropped (the connection's back-pressure count).</summary>
    void RequestDone();
}
