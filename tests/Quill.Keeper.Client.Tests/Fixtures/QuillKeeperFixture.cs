using Quill.Testing;

namespace Quill.Keeper.Client.Tests.Fixtures;

/// <summary>Quill's Keeper, as a real `quill keeper start` process, standalone, TTL nodes enabled.</summary>
public sealed class QuillKeeperFixture : KeeperServerFixture
{
    private KeeperProcess? _server;

    private KeeperProcess Server => _server ?? throw new InvalidOperationException("not started");

    public override string ConnectString => Server.ConnectString;
    public override TimeSpan TickTime => TimeSpan.FromMilliseconds(Server.TickTime);

    public override async Task InitializeAsync() => _server = await KeeperProcess.StartAsync(extendedTypesEnabled: true);

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
