using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Quill.Keeper.Client;

/// <summary>How a <see cref="KeeperClient"/> connects. Defaults suit a local server.</summary>
public sealed record KeeperClientOptions
{
    /// <summary>The session timeout to ask for; the server clamps it to [2, 20] ticks.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="KeeperClient.ConnectAsync"/> keeps trying the hosts before it gives up.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Accept a read-only server (one cut off from its quorum); writes then fail with NotReadOnly.</summary>
    public bool CanBeReadOnly { get; init; }

    /// <summary>Attach to an existing session instead of creating one (with <see cref="SessionPassword"/>).</summary>
    public long SessionId { get; init; }

    public byte[]? SessionPassword { get; init; }

    /// <summary>The clock for pings, read timeouts and connect deadlines (tests drive a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>Where a client's session stands. Expired and Closed are final.</summary>
public enum SessionState
{
    Connected,
    /// <summary>Connected to a server that only serves reads.</summary>
    ConnectedReadOnly,
    /// <summary>The connection was lost; the client is reconnecting with the same session.</summary>
    Disconnected,
    /// <summary>The server ended the session: its ephemerals and watches are gone. Make a new client.</summary>
    Expired,
    /// <summary>The server rejected credentials given to AddAuthAsync.</summary>
    AuthFailed,
    /// <summary>The client was closed.</summary>
    Closed,
}
