using Quill.Keeper.Protocol;
using Quill.Keeper.Tree;

namespace Quill.Keeper.Storage;

/// <summary>
/// What a snapshot holds: the committed sessions and the tree, as of <see cref="Zxid"/> exactly. Captured on the
/// request processor's owner thread, encoded by whoever writes it (see <see cref="Snapshotter"/>).
/// </summary>
public sealed class StateImage(IReadOnlyList<(long Id, int TimeoutMs)> sessions, TreeImage tree)
{
    public long Zxid => Tree.Zxid;
    public IReadOnlyList<(long Id, int TimeoutMs)> Sessions { get; } = sessions;
    public TreeImage Tree { get; } = tree;

    /// <summary>The snapshot body: session count, (id, timeout) each, then the tree (read back by recovery).</summary>
    public byte[] Encode()
    {
        var w = new JuteWriter(1 << 16);
        w.WriteInt(Sessions.Count);
        foreach (var (id, timeout) in Sessions) { w.WriteLong(id); w.WriteInt(timeout); }
        Tree.Write(w);
        return w.ToArray();
    }
}
