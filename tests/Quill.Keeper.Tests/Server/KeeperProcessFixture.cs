using Quill.Testing;

namespace Quill.Keeper.Tests.Server;

/// <summary>One Keeper process (the real `quill keeper start`) shared by the tests of a class.</summary>
public sealed class KeeperProcessFixture : IAsyncLifetime
{
    private KeeperProcess? _keeper;

    public KeeperProcess Keeper => _keeper ?? throw new InvalidOperationException("Keeper was not started");

    public async Task InitializeAsync() => _keeper = await KeeperProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_keeper is not null) await _keeper.DisposeAsync();
    }
}
