using System.Text.Json;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Commands.Kafka;

/// <summary>
/// --zookeeper support. Quill's tools work through the Kafka admin API only, so for --zookeeper they read the
/// registered brokers from Keeper (or ZooKeeper) at /brokers/ids/&lt;id&gt;, as Kafka's ZooKeeper-mode layout keeps
/// them, and talk to those brokers. The topic layout itself is never read from or written to Keeper by a tool:
/// the broker stays the one writer of its metadata.
/// </summary>
public static class ZookeeperBootstrap
{
    public static async Task<string> FindBrokerAsync(string connectString, CancellationToken ct)
    {
        await using var client = await ConnectAsync(connectString, ct);
        IReadOnlyList<string> ids;
        try
        {
            ids = await client.GetChildrenAsync("/brokers/ids", cancellationToken: ct);
        }
        catch (KeeperException e)
        {
            throw new ToolException($"--zookeeper {connectString}: cannot read /brokers/ids ({e.Message}); is a broker registered there?", ExitCodes.Failed);
        }
        var endpoints = await RegisteredEndpointsAsync(client, ids, ct);
        if (endpoints.Count == 0) throw new ToolException($"--zookeeper {connectString}: no broker is registered under /brokers/ids", ExitCodes.Failed);
        string bootstrap = string.Join(',', endpoints);
        Console.Error.WriteLine($"Note: --zookeeper: asking the broker(s) registered in /brokers/ids ({bootstrap}) through the Kafka protocol.");
        return bootstrap;
    }

    /// <summary>
    /// host:port of each of the brokers <paramref name="ids"/> (children of /brokers/ids), in id order; a broker whose
    /// registration went meanwhile (it stopped) is skipped.
    /// </summary>
    public static async Task<List<string>> RegisteredEndpointsAsync(KeeperClient client, IEnumerable<string> ids, CancellationToken ct)
    {
        var endpoints = new List<string>();
        foreach (var id in ids.OrderBy(i => int.TryParse(i, out int n) ? n : int.MaxValue))
        {
            try
            {
                var node = await client.GetDataAsync($"/brokers/ids/{id}", cancellationToken: ct);
                if (ParseEndpoint(node.Data) is { } endpoint) endpoints.Add(endpoint);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
            }
        }
        return endpoints;
    }

    /// <summary>host:port from a broker registration: the first PLAINTEXT endpoint, else the host and port fields.</summary>
    public static string? ParseEndpoint(byte[] json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.TryGetProperty("endpoints", out var list) && list.ValueKind == JsonValueKind.Array)
                foreach (var e in list.EnumerateArray())
                {
                    // "PLAINTEXT://host:port"
                    string? s = e.GetString();
                    int scheme = s?.IndexOf("://", StringComparison.Ordinal) ?? -1;
                    if (s is not null && scheme > 0) return s[(scheme + 3)..];
                }
            if (root.TryGetProperty("host", out var host) && root.TryGetProperty("port", out var port) && host.GetString() is { Length: > 0 } h)
                return $"{h}:{port.GetInt32()}";
        }
        catch (JsonException)
        {
            // Not a broker registration; skipped.
        }
        return null;
    }

    private static async Task<KeeperClient> ConnectAsync(string connectString, CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            return await KeeperClient.ConnectAsync(connectString, cancellationToken: timeout.Token);
        }
        catch (Exception e) when (e is not ToolException)
        {
            throw new ToolException($"--zookeeper {connectString}: cannot connect ({e.Message})", ExitCodes.Failed);
        }
    }
}
