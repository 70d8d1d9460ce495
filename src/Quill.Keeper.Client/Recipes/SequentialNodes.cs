using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Recipes;

/// <summary>
/// What the lock, latch and queue recipes share: sequential children ordered by their server-assigned suffix, and
/// "protected" creation, which finds its own node again if the connection drops before the create's reply arrives.
/// </summary>
internal static class SequentialNodes
{
    private const int SequenceDigits = 10;

    /// <summary>The sequence number the server appended (the last ten digits of the name).</summary>
    public static long SequenceOf(string name) =>
        name.Length >= SequenceDigits && long.TryParse(name.AsSpan(name.Length - SequenceDigits), out long seq) ? seq : long.MaxValue;

    /// <summary>Children whose name contains <paramref name="marker"/>, in sequence order.</summary>
    public static List<string> Sorted(IEnumerable<string> children, string marker) =>
        children.Where(c => c.Contains(marker, StringComparison.Ordinal))
            .OrderBy(SequenceOf).ThenBy(c => c, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Creates parent/_c_{guid}-{prefix}NNNNNNNNNN. If the connection is lost before the answer, the create may or may
    /// not have happened: the unique guid lets us look for our node instead of creating a second one.
    /// </summary>
    public static async Task<string> CreateProtectedAsync(KeeperClient client, string parent, string prefix, byte[]? data,
        CreateMode mode, CancellationToken cancellationToken)
    {
        string marker = $"_c_{Guid.NewGuid():N}-";
        while (true)
        {
            try
            {
                // The create itself is not cancelled: once sent it may happen, and a caller that gave up must still
                // learn the node's name to delete it. Cancellation applies to the waits around it.
                return await client.CreateAsync(PathUtils.Join(parent, marker + prefix), data, mode: mode, cancellationToken: CancellationToken.None);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
                await client.EnsurePathAsync(parent, cancellationToken);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.ConnectionLoss)
            {
                await client.WaitForStateAsync(SessionState.Connected, cancellationToken);
                var mine = (await client.GetChildrenAsync(parent, cancellationToken: cancellationToken))
                    .FirstOrDefault(c => c.StartsWith(marker, StringComparison.Ordinal));
                if (mine is not null) return PathUtils.Join(parent, mine);
            }
        }
    }
}
