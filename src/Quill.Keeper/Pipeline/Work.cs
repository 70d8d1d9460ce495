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

/// <summary>Runs an action on the owner thread (the leader syncs a learner there, against a still state).</summary>
public sealed record OwnerWork(Action Action) : Work;

/// <summary>Leader: a write a learner forwarded (<paramref name="From"/> is where a refusal or sync answer goes).</summary>
public sealed record ForwardedWork(object From, Quorum.ForwardedRequest Request) : Work;

/// <summary>Leader: sessions a learner's clients kept alive.</summary>
public sealed record TouchSessionsWork(List<(long Id, int TimeoutMs)> Sessions) : Work;

/// <summary>Follower: the leader committed this proposal.</summary>
public sealed record LeaderCommitWork(Quorum.Proposal Proposal) : Work;

/// <summary>Follower: the leader's answer to a forwarded write it refused, or to a sync.</summary>
public sealed record LeaderAnswerWork(Quorum.ForwardedAnswer Answer) : Work;

/// <summary>Follower: proposals up to this zxid are on disk here (committed ones up to it may be applied).</summary>
public sealed record LoggedUpToWork(long Zxid) : Work;

/// <summary>Follower: the leader pinged; answer with the sessions touched since.</summary>
public sealed record PingWork : Work;
