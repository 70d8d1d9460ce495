namespace Quill.Keeper.Ensemble.Tests.Harness;

/// <summary>Which server the ensemble runs. Both start from the same zoo.cfg and myid.</summary>
public enum EnsembleKind
{
    /// <summary>Apache ZooKeeper 3.8 from the Debian package: QuorumPeerMain.</summary>
    ApacheZooKeeper,

    /// <summary>Quill's Keeper: <c>dotnet quill.dll keeper start --config zoo.cfg</c>.</summary>
    Keeper,
}
