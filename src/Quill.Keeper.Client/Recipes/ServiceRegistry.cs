using System.Runtime.CompilerServices;
using System.Text.Json;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Recipes;

/// <summary>One running instance of a service, as registered and discovered.</summary>
public sealed record ServiceInstance(string Name, string Id, string Address, int Port,
    IReadOnlyDictionary<string, string>? Metadata = null)
{
    /// <summary>When the instance registered (Unix ms).</summary>
    public long RegisteredAt { get; init; }
}

/// <summary>
/// Service registration and discovery (Curator's ServiceDiscovery): an instance is an ephemeral node
/// <c>basePath/name/id</c> holding the instance as JSON, so it disappears when its process's session ends.
/// Discovery lists the instances of a name, once or as a stream of updates.
/// </summary>
public sealed class ServiceRegistry(KeeperClient client, string basePath = "/services")
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string BasePath { get; } = basePath;

    /// <summary>Registers (or re-registers with new details) an instance owned by this client's session.</summary>
    public async Task RegisterAsync(ServiceInstance instance, CancellationToken cancellationToken = default)
    {
        string path = InstancePath(instance.Name, instance.Id);
        var stamped = instance with { RegisteredAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };
        byte[] data = JsonSerializer.SerializeToUtf8Bytes(stamped, Json);
        await client.EnsurePathAsync(PathUtils.Parent(path), cancellationToken);
        try
        {
            await client.CreateAsync(path, data, mode: CreateMode.Ephemeral, cancellationToken: cancellationToken);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
        {
            var stat = await client.ExistsAsync(path, cancellationToken: cancellationToken);
            if (stat?.EphemeralOwner != client.SessionId) throw;
            await client.SetDataAsync(path, data, cancellationToken: cancellationToken);
        }
    }

    public Task UnregisterAsync(string name, string id, CancellationToken cancellationToken = default) =>
        client.DeleteIfExistsAsync(InstancePath(name, id), cancellationToken);

    /// <summary>The names of the services that have (or had) instances.</summary>
    public async Task<IReadOnlyList<string>> GetServiceNamesAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return (await client.GetChildrenAsync(BasePath, cancellationToken: cancellationToken)).Order(StringComparer.Ordinal).ToList();
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return [];
        }
    }

    /// <summary>The registered instances of <paramref name="name"/>, ordered by id.</summary>
    public Task<IReadOnlyList<ServiceInstance>> GetInstancesAsync(string name, CancellationToken cancellationToken = default) =>
        ReadInstancesAsync(name, null, cancellationToken);

    /// <summary>The instances of <paramref name="name"/> now, then again after every registration or departure.</summary>
    public async IAsyncEnumerable<IReadOnlyList<ServiceInstance>> WatchInstancesAsync(string name,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await client.EnsurePathAsync(PathUtils.Join(BasePath, name), cancellationToken);
        while (true)
        {
            var changed = new KeeperWatch();
            yield return await ReadInstancesAsync(name, changed, cancellationToken);
            var e = await changed.Fired.WaitAsync(cancellationToken);
            if (e.Type == EventType.None) yield break;
        }
    }

    private async Task<IReadOnlyList<ServiceInstance>> ReadInstancesAsync(string name, KeeperWatch? watch, CancellationToken cancellationToken)
    {
        string servicePath = PathUtils.Join(BasePath, name);
        IReadOnlyList<string> ids;
        try
        {
            ids = await client.GetChildrenAsync(servicePath, watch?.Callback, cancellationToken);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return [];
        }
        var instances = new List<ServiceInstance>();
        foreach (var id in ids.Order(StringComparer.Ordinal))
        {
            try
            {
                var node = await client.GetDataAsync(PathUtils.Join(servicePath, id), cancellationToken: cancellationToken);
                if (JsonSerializer.Deserialize<ServiceInstance>(node.Data, Json) is { } instance) instances.Add(instance);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
                // Deregistered meanwhile.
            }
            catch (JsonException)
            {
                // Not an instance we can read: skip it rather than fail discovery.
            }
        }
        return instances;
    }

    private string InstancePath(string name, string id)
    {
        if (name.Contains('/') || id.Contains('/')) throw new ArgumentException("service names and ids cannot contain '/'");
        return PathUtils.Join(PathUtils.Join(BasePath, name), id);
    }
}
