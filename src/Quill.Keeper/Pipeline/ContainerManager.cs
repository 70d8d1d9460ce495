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
    private long _lastCheck;

    /// <summary>The deletes due at <paramref name="now"/> (ms since the epoch); none when the last check is too recent.</summary>
    public List<Request> Check(long now)
    {
        var deletes = new List<Request>();
        if (now - _lastCheck < checkIntervalMs) return deletes;
        _lastCheck = now;
        foreach (var path in tree.Containers)
        {
            if (tree.Get(path) is { ChildCount: 0, Cversion: > 0 }) deletes.Add(Delete(path));
        }
        foreach (var path in tree.Ttls)
        {
            var node = tree.Get(path);
            if (node is { ChildCount: 0 } && now - node.Mtime > EphemeralType.Ttl(node.EphemeralOwner)) deletes.Add(Delete(path));
        }
        return deletes;
    }

    private Request Delete(string path)
    {
        var w = new JuteWriter();
        new DeleteRequest(path, -1).Write(w);
        return new Request(null, _systemSession, 0, OpCode.DeleteContainer, w.ToArray());
    }
}
