using Quill.Testing;

namespace Quill.Keeper.Client.Tests.Fixtures;

/// <summary>The reference: Apache ZooKeeper 3.8 (Debian package), standalone, TTL nodes enabled.</summary>
public sealed class ApacheZooKeeperFixture()
    : ProcessServerFixture(async () => await ApacheZooKeeperServer.StartAsync(extendedTypesEnabled: true));
