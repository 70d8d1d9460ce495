using Quill.Testing;

namespace Quill.Keeper.Client.Tests.Fixtures;

/// <summary>Quill's Keeper, as a real `quill keeper start` process, standalone, TTL nodes enabled.</summary>
public sealed class QuillKeeperFixture()
    : ProcessServerFixture(async () => await KeeperProcess.StartAsync(extendedTypesEnabled: true));
