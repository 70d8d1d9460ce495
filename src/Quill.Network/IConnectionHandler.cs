namespace Quill.Network;

/// <summary>
/// What a protocol gives the network layer: the life of one connection, as one task. Read frames from
/// <see cref="NetworkConnection.Input"/> (cut with <see cref="FrameCutter"/>), answer through a
/// <see cref="FrameOutput"/> on <see cref="NetworkConnection.Output"/>, return when done; the listener then closes
/// the connection, after what was written has gone out.
/// </summary>
public interface IConnectionHandler
{
    /// <summary>
    /// Called in the accept loop, in accept order, before the connection runs: false closes it at once (a limit of
    /// connections per address, say).
    /// </summary>
    bool Admit(NetworkConnection connection) => true;

    Task RunAsync(NetworkConnection connection);
}
