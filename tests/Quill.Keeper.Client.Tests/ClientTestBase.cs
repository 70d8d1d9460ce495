using Quill.Keeper.Protocol;
using Quill.Keeper.Client.Tests.Fixtures;

namespace Quill.Keeper.Client.Tests;

/// <summary>
/// Shared setup: each test gets its own root node (so tests of a class can share one server), a connected client,
/// and every client it opens closed afterwards.
/// </summary>
public abstract class ClientTestBase(KeeperServerFixture server) : IAsyncLifetime
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private readonly List<KeeperClient> _clients = [];

    protected KeeperServerFixture Server { get; } = server;

    /// <summary>A node unique to this test, created before it runs.</summary>
    protected string Root { get; } = "/test-" + Guid.NewGuid().ToString("N")[..12];

    protected KeeperClient Client { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Client = await ConnectAsync();
        await Client.CreateAsync(Root, null);
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var client in _clients) await client.DisposeAsync();
    }

    /// <summary>Opens another client on the server (optionally under a chroot); it is closed after the test.</summary>
    protected async Task<KeeperClient> ConnectAsync(string chroot = "", KeeperClientOptions? options = null, string? connectString = null)
    {
        var client = await KeeperClient.ConnectAsync((connectString ?? Server.ConnectString) + chroot,
            (options ?? new KeeperClientOptions { SessionTimeout = TimeSpan.FromSeconds(10) }) with
            {
                Logger = new Fixtures.FileTestLogger(GetType().Name),
            });
        lock (_clients) _clients.Add(client);
        return client;
    }

    protected string P(string relative) => Root + "/" + relative;

    protected static byte[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);
    protected static string Text(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);

    /// <summary>Awaits with a deadline so a lost event fails the test instead of hanging it.</summary>
    protected static Task<T> Soon<T>(Task<T> task) => task.WaitAsync(Patience);
    protected static Task Soon(Task task) => task.WaitAsync(Patience);

    /// <summary>
    /// Waits until the server lists <paramref name="client"/>'s session as watching <paramref name="path"/>: the
    /// positive sign that a waiting recipe has done its reads and now waits for the event, so that a check that it
    /// has not finished means something (instead of a sleep that may simply have been too short).
    /// </summary>
    protected Task UntilWatchingAsync(KeeperClient client, string path) => UntilWatchingAsync(client, p => p == path, path);

    /// <summary>As above, for a path the recipe chooses: any path <paramref name="watched"/> accepts.</summary>
    protected async Task UntilWatchingAsync(KeeperClient client, Func<string, bool> watched, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!((await Server.WatchesBySessionAsync()).TryGetValue(client.SessionId, out var paths) && paths.Any(watched)))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"session 0x{client.SessionId:x} never watched {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Asserts the action fails with a KeeperException carrying <paramref name="expected"/>.</summary>
    protected static async Task<KeeperException> ThrowsKeeper(ErrorCode expected, Func<Task> action)
    {
        var e = await Assert.ThrowsAnyAsync<KeeperException>(action);
        Assert.Equal(expected, e.Code);
        return e;
    }
}
