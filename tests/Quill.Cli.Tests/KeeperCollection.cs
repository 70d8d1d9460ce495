using Quill.Testing;

namespace Quill.Cli.Tests;

/// <summary>One Keeper process for the whole test run; each test works under its own root node.</summary>
public sealed class KeeperFixture : IAsyncLifetime
{
    private KeeperProcess? _keeper;

    public KeeperProcess Keeper => _keeper ?? throw new InvalidOperationException("Keeper was not started");

    public string Server => Keeper.ConnectString;

    public async Task InitializeAsync() => _keeper = await KeeperProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_keeper is not null) await _keeper.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class KeeperCollection : ICollectionFixture<KeeperFixture>
{
    public const string Name = "Keeper";
}
