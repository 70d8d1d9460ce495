using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Tree;

namespace Quill.Keeper.Pipeline;

/// <summary>
/// ZooKeeper's ContainerManager: a container that has had children and has none left, and a TTL node with no
/// children that was not modified for its TTL, are deleted by the server itself, at most once per check interval.
/// The deletes are ordinary deleteContainer requests from a system session, so they go through the whole pipeline
/// (checked against pending changes, logged, applied) like a client's. Runs on the processor's owner thread.
/// </summary>
public sealed class ContainerManager(DataTree tree, long checkIntervalMs)
{
    private readonly Session _systemSession = new(0, int.MaxValue, []);
    /// <summary>Reused by every check: the processor ticks several times a second, and most ticks find nothing due.</summary>
    private readonly List<Request> _deletes = [];
    private long _lastCheck;

    /// <summary>
    /// The deletes due at <paramref name="now"/> (ms since the epoch); none when the last check is too recent. The list
    /// is this manager's own, valid until the next call; a check allocates only for the deletes it finds.
    /// </summary>
    public List<Request> Check(long now)
    {
        _deletes.Clear();
        if (now - _lastCheck < checkIntervalMs) return _deletes;
        _lastCheck = now;
        foreach (var path in tree.Containers)
        {
            if (tree.Get(path) is { ChildCount: 0, Cversion: > 0 }) _deletes.Add(Delete(path));
        }
        foreach (var path in tree.Ttls)
        {
            var node = tree.Get(path);
            if (node is { ChildCount: 0 } && now - node.Mtime > EphemeralType.Ttl(node.EphemeralOwner)) _deletes.Add(Delete(path));
        }
        return _deletes;
    }

    private Request Delete(string path)
    {
        var w = new JuteWriter();
        new DeleteRequest(path, -1).Write(w);
        return new Request(null, _systemSession, 0, OpCode.DeleteContainer, w.ToArray());
    }
}
