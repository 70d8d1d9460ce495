using System.Net;
using Quill.Testing;

namespace Quill.Keeper.Ensemble.Tests.Harness;

/// <summary>
/// The links between the servers of an ensemble, each one a pair of <see cref="FaultProxy"/>s: server i reaches server
/// j's quorum and election ports only through the proxies of the directed link i→j (its zoo.cfg names them in j's
/// server line). Cutting both directions of i–j is a network partition between the two, while both keep running and
/// clients still reach both. Servers are addressed by index, as in <see cref="EnsembleProcess"/>.
/// </summary>
public sealed class EnsembleNetwork : IAsyncDisposable
{
    private readonly Dictionary<(int From, int To), (FaultProxy Quorum, FaultProxy Election)> _links = [];

    internal EnsembleNetwork(EnsembleKind kind, IReadOnlyList<EnsembleMember> members, Func<int> freePort)
    {
        Size = members.Count;
        var links = Enumerable.Range(0, Size).SelectMany(from => Enumerable.Range(0, Size).Where(to => to != from).Select(to => (from, to))).ToList();
        var electionPorts = links.ToDictionary(link => link, _ => freePort());
        foreach (var (from, to) in links)
        {
            var target = members[to];
            // ZooKeeper's election hello names the dialer's own address, which the other side may dial back.
            var opening = kind == EnsembleKind.ApacheZooKeeper ? ZooKeeperElectionHello.RewriteAddress(electionPorts[(to, from)]) : null;
            _links[(from, to)] = (
                new FaultProxy(new IPEndPoint(IPAddress.Loopback, target.QuorumPort), freePort()),
                new FaultProxy(new IPEndPoint(IPAddress.Loopback, target.ElectionPort), electionPorts[(from, to)], opening));
        }
    }

    public int Size { get; }

    /// <summary>The ports server <paramref name="from"/> dials to reach server <paramref name="to"/>.</summary>
    public (int QuorumPort, int ElectionPort) PortsFor(int from, int to) => (_links[(from, to)].Quorum.Port, _links[(from, to)].Election.Port);

    /// <summary>Cuts both directions between two servers.</summary>
    public void Cut(int a, int b, CutMode mode)
    {
        foreach (var (from, to) in new[] { (a, b), (b, a) })
        {
            _links[(from, to)].Quorum.Cut(mode);
            _links[(from, to)].Election.Cut(mode);
        }
    }

    /// <summary>Cuts every link between the two sides (a server in neither side keeps all its links: a bridge).</summary>
    public void Partition(IEnumerable<int> side, IEnumerable<int> otherSide, CutMode mode)
    {
        var others = otherSide.ToList();
        foreach (int a in side)
            foreach (int b in others)
                Cut(a, b, mode);
    }

    /// <summary>Cuts a server off from every other server.</summary>
    public void Isolate(int index, CutMode mode) => Partition([index], Enumerable.Range(0, Size).Where(i => i != index), mode);

    /// <summary>Every link forwards again.</summary>
    public void HealAll()
    {
        foreach (var (quorum, election) in _links.Values)
        {
            quorum.Heal();
            election.Heal();
        }
    }

    public bool AnyCut => _links.Values.Any(l => l.Quorum.CutMode is not null || l.Election.CutMode is not null);

    /// <summary>Is the link between the two cut (either direction)?</summary>
    public bool IsCut(int a, int b) => _links[(a, b)].Quorum.CutMode is not null || _links[(b, a)].Quorum.CutMode is not null;

    public async ValueTask DisposeAsync()
    {
        foreach (var (quorum, election) in _links.Values)
        {
            await quorum.DisposeAsync();
            await election.DisposeAsync();
        }
    }
}
