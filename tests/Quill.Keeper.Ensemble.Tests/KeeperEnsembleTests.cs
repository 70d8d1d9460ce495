#if KEEPER_ENSEMBLE
using Quill.Keeper.Ensemble.Tests.Harness;
using Xunit.Abstractions;

namespace Quill.Keeper.Ensemble.Tests;

/// <summary>
/// The same scenarios on a 3-server Keeper ensemble. Compiled only with <c>-p:KeeperEnsemble=true</c> until Keeper
/// runs ensembles (until then `keeper start` refuses the config and every scenario fails saying so); once it does,
/// drop the #if so the suite runs them.
/// </summary>
public sealed class KeeperEnsembleTests(ITestOutputHelper output) : EnsembleScenarios(EnsembleKind.Keeper, output);
#endif
