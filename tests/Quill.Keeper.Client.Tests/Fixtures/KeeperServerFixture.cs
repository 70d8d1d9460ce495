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

    /// <summary>
    /// The paths each session watches, as the server sees them (ZooKeeper's <c>wchc</c> four-letter word).
    /// </summary>
    public abstract Task<IReadOnlyDictionary<long, IReadOnlyList<string>>> WatchesBySessionAsync();

    /// <summary>Parses the answer of <c>wchc</c>: a "0x&lt;session&gt;" line, then one tab-indented path per line.</summary>
    protected static IReadOnlyDictionary<long, IReadOnlyList<string>> ParseWchc(string text)
    {
        var result = new Dictionary<long, IReadOnlyList<string>>();
        List<string>? current = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("0x", StringComparison.Ordinal))
                result[Convert.ToInt64(line.Trim()[2..], 16)] = current = [];
            else if (line.StartsWith('\t') && current is not null)
                current.Add(line.Trim());
        }
        return result;
    }

    /// <summary>Server output and logs, to attach to a failing assertion.</summary>
    public virtual string Diagnostics() => "";

    public abstract Task InitializeAsync();
    public abstract Task DisposeAsync();
}
