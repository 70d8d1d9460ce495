using Quill.Keeper.Protocol;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Tests.Tree;

public sealed class TreeImageTests
{
    private readonly DataTree _tree = new(extendedTypes: true);
    private long _zxid;

    private void Create(string path, string data = "")
    {
        int parentCversion = _tree.Get(PathUtils.Parent(path))!.Cversion + 1;
        var txn = new CreateTxn(path, System.Text.Encoding.UTF8.GetBytes(data), Acl.OpenAclUnsafe, 0, parentCversion);
        Assert.Equal(ErrorCode.Ok, _tree.Apply(++_zxid, 0, 0, txn).Err);
    }

    private static byte[] Encode(DataTree tree)
    {
        var w = new JuteWriter();
        tree.Capture().Write(w);
        return w.ToArray();
    }

    /// <summary>The node paths in the order the snapshot lists them.</summary>
    private static List<string> WrittenOrder(byte[] image)
    {
        var r = new JuteReader(image);
        r.ReadLong();
        int count = r.ReadInt();
        var paths = new List<string>();
        for (int i = 0; i < count; i++)
        {
            paths.Add(r.ReadString()!);
            r.ReadBuffer();
            Acl.ReadList(ref r);
            for (int j = 0; j < 5; j++) r.ReadLong();
            for (int j = 0; j < 3; j++) r.ReadInt();
            r.ReadLong();
        }
        return paths;
    }

    [Fact]
    public void a_snapshot_lists_the_tree_in_pre_order_each_subtree_right_after_its_root()
    {
        // An ordinal sort would put "/a-b" ('-' < '/') between "/a" and "/a/x", splitting /a's subtree.
        foreach (var path in new[] { "/a", "/a-b", "/a/x", "/a/x/y", "/a-b/z", "/b" }) Create(path, path);
        var order = WrittenOrder(Encode(_tree));

        Assert.Equal(_tree.NodeCount, order.Count);
        Assert.Equal("/", order[0]);
        var ancestors = new Stack<string>();
        foreach (var path in order)
        {
            if (path != "/")
            {
                string parent = PathUtils.Parent(path);
                while (ancestors.Count > 0 && ancestors.Peek() != parent) ancestors.Pop();
                Assert.True(ancestors.Count > 0, $"{path} is not inside the subtree of its parent {parent}: {string.Join(' ', order)}");
            }
            ancestors.Push(path);
        }
    }

    [Fact]
    public void a_written_image_reads_back_as_the_same_tree()
    {
        foreach (var path in new[] { "/a", "/a-b", "/a/x", "/a/x/y", "/a-b/z", "/b" }) Create(path, path);
        var image = Encode(_tree);
        var r = new JuteReader(image);
        var read = DataTree.Deserialize(ref r, extendedTypes: true);

        Assert.Equal(_tree.Paths.Order(StringComparer.Ordinal), read.Paths.Order(StringComparer.Ordinal));
        Assert.Equal("/a/x/y", System.Text.Encoding.UTF8.GetString(read.Get("/a/x/y")!.Data!));
        Assert.Equal(_tree.LastZxid, read.LastZxid);
        Assert.Equal(Storage.SnapshotChecks.Encode(_tree), Storage.SnapshotChecks.Encode(read));
    }
}
