using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client;

/// <summary>Conveniences built from the primitive operations.</summary>
public static class KeeperClientExtensions
{
    /// <summary>Creates <paramref name="path"/> and any missing ancestors as persistent nodes (empty data). Existing ones are fine.</summary>
    public static async Task EnsurePathAsync(this KeeperClient client, string path, CancellationToken cancellationToken = default)
    {
        if (path == "/" || await client.ExistsAsync(path, cancellationToken: cancellationToken) is not null) return;
        await client.EnsurePathAsync(PathUtils.Parent(path), cancellationToken);
        try
        {
            await client.CreateAsync(path, null, cancellationToken: cancellationToken);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
        {
            // Someone else made it first.
        }
    }

    /// <summary>Deletes a node and everything below it. Nodes that vanish meanwhile are fine.</summary>
    public static async Task DeleteRecursiveAsync(this KeeperClient client, string path, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> children;
        try
        {
            children = await client.GetChildrenAsync(path, cancellationToken: cancellationToken);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return;
        }
        foreach (var child in children) await client.DeleteRecursiveAsync(PathUtils.Join(path, child), cancellationToken);
        try
        {
            await client.DeleteAsync(path, cancellationToken: cancellationToken);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            // Already gone.
        }
    }

    /// <summary>Deletes a node if it exists (any version); true when this call deleted it.</summary>
    public static async Task<bool> DeleteIfExistsAsync(this KeeperClient client, string path, CancellationToken cancellationToken = default)
    {
        try
        {
            await client.DeleteAsync(path, cancellationToken: cancellationToken);
            return true;
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return false;
        }
    }
}
