namespace Quill.Keeper.Client.Tests.Fixtures;

/// <summary>
/// A ZooKeeper-protocol server the client tests run against. Every test class is abstract over this, with one
/// concrete subclass per server (Apache ZooKeeper now, Quill's Keeper later), so the same tests judge both.
/// </summary>
public abstract class KeeperServerFixture : IAsyncLifetime
{
    /// <summary>"127.0.0.1:port".</summary>
    public abstract string ConnectString { get; }

    public int Port => int.Parse(ConnectString[(ConnectString.LastIndexOf(':') + 1)..]);

    /// <summary>The server's tick: sessions last at least two ticks.</summary>
    public virtual TimeSpan TickTime => TimeSpan.FromSeconds(2);

    /// <summary>Crashes the server (SIGKILL): no clean shutdown.</summary>
    public abstract Task KillAsync();

    /// <summary>Starts it again after a kill, on the same port and data directory.</summary>
    public abstract Task StartAgainAsync();

    /// <summary>Server output and logs, to attach to a failing assertion.</summary>
    public virtual string Diagnostics() => "";

    public abstract Task InitializeAsync();
    public abstract Task DisposeAsync();
}
