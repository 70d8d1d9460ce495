using Quill.Testing;

namespace Quill.Keeper.Client.Tests.Fixtures;

/// <summary>A fixture over any real server process; the subclasses only say which server to start.</summary>
public abstract class ProcessServerFixture(Func<Task<IZooKeeperServerProcess>> start) : KeeperServerFixture
{
    private IZooKeeperServerProcess? _server;

    private IZooKeeperServerProcess Server => _server ?? throw new InvalidOperationException("not started");

    public override string ConnectString => Server.ConnectString;
    public override TimeSpan TickTime => TimeSpan.FromMilliseconds(Server.TickTime);

    public override async Task InitializeAsync() => _server = await start();

    public override Task KillAsync()
    {
        Server.Kill();
        return Task.CompletedTask;
    }

    public override Task StartAgainAsync() => Server.StartAgainAsync();

    public override string Diagnostics() => Server.Diagnostics();

    public override async Task<IReadOnlyDictionary<long, IReadOnlyList<string>>> WatchesBySessionAsync() =>
        ParseWchc(await Server.FourLetterWordAsync("wchc"));

    public override async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
