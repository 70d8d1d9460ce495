using Quill.Testing;

namespace Quill.Compat.Tests.ZooKeeper;

/// <summary>One Keeper process shared by the tests of a class (xunit class fixture).</summary>
public sealed class KeeperFixture : IAsyncLifetime
{
    private KeeperProcess? _keeper;

    public KeeperProcess Keeper => _keeper ?? throw new InvalidOperationException("Keeper was not started");

    public async Task InitializeAsync() => _keeper = await KeeperProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_keeper is not null) await _keeper.DisposeAsync();
    }
}
