namespace Quill.Keeper.Storage.ZooKeeperImport;

/// <summary>
/// The Adler-32 checksum (RFC 1950), which ZooKeeper puts on every txn log entry and at the end of a snapshot
/// (java.util.zip.Adler32). .NET has no implementation of it, and it is a few lines.
/// </summary>
public static class Adler32
{
    private const uint Modulus = 65521;
    // The largest n for which 255n(n+1)/2 + (n+1)(Modulus-1) fits in 32 bits: sums may wait that long for a modulo.
    private const int BlockSize = 5552;

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint a = 1, b = 0;
        while (data.Length > 0)
        {
            var block = data[..Math.Min(BlockSize, data.Length)];
            foreach (byte x in block)
            {
                a += x;
                b += a;
            }
            a %= Modulus;
            b %= Modulus;
            data = data[block.Length..];
        }
        return (b << 16) | a;
    }
}
