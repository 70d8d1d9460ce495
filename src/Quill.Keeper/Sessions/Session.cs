using Quill.Keeper.Pipeline;

namespace Quill.Keeper.Sessions;

/// <summary>
/// A client session. Owned by the request processor's thread. <see cref="Queue"/> keeps the session's requests in
/// the order they arrived until each can be answered, which is how a session sees its own writes in order and why a
/// read never overtakes that session's earlier write.
/// </summary>
public sealed class Session(long id, int timeoutMs, byte[] password)
{
    public long Id { get; } = id;
    public int TimeoutMs { get; set; } = timeoutMs;
    public byte[] Password { get; internal set; } = password;
    public long ExpiresAt { get; set; }
    /// <summary>True once closeSession (asked for or by expiry) is on its way: the session takes no more requests.</summary>
    public bool Closing { get; set; }
    /// <summary>True until the createSession txn is committed.</summary>
    public bool Creating { get; set; }
    public IClientChannel? Connection { get; set; }
    public Queue<Request> Queue { get; } = new();
}
