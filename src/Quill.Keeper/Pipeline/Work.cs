using Quill.Keeper.Protocol;

namespace Quill.Keeper.Pipeline;

/// <summary>Everything the request processor's thread is asked to do arrives as one of these, in order.</summary>
public abstract record Work;

public sealed record ConnectWork(IClientChannel Connection, ConnectRequest Request) : Work;

public sealed record RequestWork(IClientChannel Connection, int Xid, OpCode Type, byte[] Body) : Work;

public sealed record ConnectionClosedWork(IClientChannel Connection) : Work;

/// <summary>A batch that the sync stage made durable, in the order it was accepted.</summary>
public sealed record CommittedWork(List<Request> Batch) : Work;

/// <summary>Periodic: session expiry, containers, TTL nodes.</summary>
public sealed record TickWork : Work;

/// <summary>Runs a question about server state on the owner thread (four-letter words, metrics).</summary>
public sealed record QueryWork(Func<string> Query, TaskCompletionSource<string> Done) : Work;
