using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Pipeline;

public enum RequestState
{
    /// <summary>Not yet looked at: a read waiting behind the session's earlier writes.</summary>
    Deferred,
    /// <summary>Accepted and on its way through the log; answered when it comes back committed.</summary>
    InFlight,
    /// <summary>Answer computed, waiting only for the session's earlier requests to be answered.</summary>
    Answered,
}

/// <summary>One client request on its way through the request processor.</summary>
public sealed class Request(IClientChannel? connection, Session session, int xid, OpCode type, byte[] body) : ILoggedTxn
{
    long ILoggedTxn.SessionId => Session.Id;
    int ILoggedTxn.Cxid => Xid;
    public IClientChannel? Connection { get; } = connection;
    public Session Session { get; } = session;
    public int Xid { get; } = xid;
    public OpCode Type { get; } = type;
    public byte[] Body { get; } = body;
    /// <summary>When the processor took it, from the server's TimeProvider (for the latency metric).</summary>
    public long ReceivedTimestamp { get; init; }

    public RequestState State { get; set; }
    /// <summary>The txn this request became, once accepted; null for reads and rejected writes.</summary>
    public Txn? Txn { get; set; }
    /// <summary>Set by the leader's broadcast, which encodes the txn once for the proposal and the log.</summary>
    public ReadOnlyMemory<byte>? EncodedTxn { get; set; }
    public long Zxid { get; set; }
    public long Time { get; set; }
    /// <summary>The encoded answer (frame included) once known.</summary>
    public byte[]? Response { get; set; }
    /// <summary>For a rejected write: its error, answered in turn.</summary>
    public ErrorCode Error { get; set; }
    /// <summary>After the answer goes out, close the connection (closeSession).</summary>
    public bool CloseAfter { get; set; }
    /// <summary>A multi that failed validation: nothing to log, answered with per-op errors at its turn.</summary>
    public MultiTxn? FailedMulti { get; set; }
    /// <summary>For a multi: the op type of each op, which decides the shape of its result.</summary>
    public List<OpCode>? MultiOpTypes { get; set; }
    /// <summary>For a new session: the handshake that waits on the createSession txn.</summary>
    public ConnectRequest? Connect { get; set; }
    /// <summary>For a write another server forwarded: the identities its connection had (ACLs are checked here).</summary>
    public IReadOnlyList<Id>? Auth { get; init; }
    /// <summary>For a write another server forwarded: where its answer goes when it is refused or is a sync.</summary>
    public object? Forwarder { get; init; }
}

/// <summary>What the sync stage writes to the txn log: a txn (or nothing, for a marker that keeps its place) and its header.</summary>
public interface ILoggedTxn
{
    long Zxid { get; }
    long SessionId { get; }
    int Cxid { get; }
    long Time { get; }
    Txn? Txn { get; }
    /// <summary>The txn's body already encoded (the leader's proposal, a follower's received one), or null: the log
    /// then writes these bytes instead of encoding the txn again.</summary>
    ReadOnlyMemory<byte>? EncodedTxn { get; }
}
