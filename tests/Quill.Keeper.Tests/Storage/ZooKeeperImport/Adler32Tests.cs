using System.Text;
using Quill.Keeper.Storage.ZooKeeperImport;

namespace Quill.Keeper.Tests.Storage.ZooKeeperImport;

public sealed class Adler32Tests
{
    [Fact]
    public void adler32_matches_the_published_values()
    {
        Assert.Equal(1u, Adler32.Compute([]));
        Assert.Equal(0x11E60398u, Adler32.Compute(Encoding.ASCII.GetBytes("Wikipedia")));
        // Long enough that the sums are reduced many times: the same as one byte at a time with a modulo each step.
        var data = Enumerable.Range(0, 100_000).Select(i => (byte)(255 - i % 7)).ToArray();
        uint a = 1, b = 0;
        foreach (var x in data) { a = (a + x) % 65521; b = (b + a) % 65521; }
        Assert.Equal((b << 16) | a, Adler32.Compute(data));
    }
}
