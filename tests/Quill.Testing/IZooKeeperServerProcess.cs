namespace Quill.Testing;

/// <summary>A ZooKeeper-protocol server running as a real process for tests: Apache ZooKeeper or Quill's Keeper.</summary>
public interface IZooKeeperServerProcess : IAsyncDisposable
{
    /// <summary>"127.0.0.1:port".</summary>
    string ConnectString { get; }
    /// <summary>The tick in milliseconds; sessions last from 2 to 20 ticks.</summary>
    int TickTime { get; }
    /// <summary>SIGKILL: no clean shutdown.</summary>
    void Kill();
    /// <summary>Starts it again after <see cref="Kill"/>, on the same port and data directory.</summary>
    Task StartAgainAsync();
    /// <summary>Sends a four-letter word and returns the whole answer.</summary>
    Task<string> FourLetterWordAsync(string command, CancellationToken cancellationToken = default);
    /// <summary>Command line and output, for failure messages.</summary>
    string Diagnostics();
}
