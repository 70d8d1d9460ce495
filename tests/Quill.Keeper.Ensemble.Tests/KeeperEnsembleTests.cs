using Quill.Keeper.Ensemble.Tests.Harness;
using Xunit.Abstractions;

namespace Quill.Keeper.Ensemble.Tests;

/// <summary>The same scenarios on a 3-server Keeper ensemble (quill keeper start --config with server.N lines).</summary>
public sealed class KeeperEnsembleTests(ITestOutputHelper output) : EnsembleScenarios(EnsembleKind.Keeper, output);
