using System.Buffers.Binary;
using System.Net.Sockets;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Commands.Kafka;

/// <summary>
/// The cluster-wide broker defaults (`--entity-type brokers --entity-default`): the broker resource named "". The .NET
/// Kafka client refuses an empty resource name, so these two requests go over a plain connection to the first bootstrap
/// broker, described by the same message schemas the broker uses.
/// </summary>
internal static class BrokerDefaultConfigs
{
    private const sbyte BrokerResource = 4;

    /// <summary>The configs set for every broker: (name, value) pairs.</summary>
    public static async Task<List<(string Name, string? Value)>> DescribeAsync(string bootstrap, CancellationToken ct)
    {
        var request = KafkaApis.DescribeConfigs.Request.New();
        request.AddElement("Resources").SetInt("ResourceType", BrokerResource).SetString("ResourceName", "").SetStringArray("ConfigurationKeys", null);
        var response = await RequestAsync(bootstrap, KafkaApis.DescribeConfigs, 1, request, ct);
        var result = response.GetArray("Results")?.FirstOrDefault() ?? throw new ToolException("the broker returned no result", ExitCodes.Failed);
        ThrowIfError(result);
        return [.. (result.GetArray("Configs") ?? []).Select(c => (c.GetString("Name") ?? "", c.GetString("Value")))];
    }

    /// <summary>Sets (value given) or deletes (value null) configs for every broker.</summary>
    public static async Task AlterAsync(string bootstrap, IEnumerable<(string Name, string? Value)> changes, CancellationToken ct)
    {
        var request = KafkaApis.IncrementalAlterConfigs.Request.New();
        var resource = request.AddElement("Resources").SetInt("ResourceType", BrokerResource).SetString("ResourceName", "");
        foreach (var (name, value) in changes)
            resource.AddElement("Configs").SetString("Name", name).SetInt("ConfigOperation", value is null ? 1 : 0).SetString("Value", value);
        var response = await RequestAsync(bootstrap, KafkaApis.IncrementalAlterConfigs, 0, request, ct);
        ThrowIfError(response.GetArray("Responses")?.FirstOrDefault() ?? throw new ToolException("the broker returned no result", ExitCodes.Failed));
    }

    private static void ThrowIfError(StructValue result)
    {
        var error = (KafkaError)result.GetInt16("ErrorCode");
        if (error != KafkaError.None)
            throw new ToolException($"{error}: {result.GetString("ErrorMessage") ?? "(no message)"}", ExitCodes.Failed);
    }

    private static async Task<StructValue> RequestAsync(string bootstrap, Api api, short version, StructValue body, CancellationToken ct)
    {
        string first = bootstrap.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        int colon = first.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(first.AsSpan(colon + 1), out int port)) throw new ToolException($"'{first}' is not host:port");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(first[..colon], port, timeout.Token);
            var stream = client.GetStream();
            using (var writer = new KafkaWriter())
            {
                KafkaFrames.WriteRequest(writer, new RequestHeader((short)api.Key, version, 1, "quill-configs"), body);
                await stream.WriteAsync(writer.WrittenMemory, timeout.Token);
            }
            var size = new byte[4];
            await stream.ReadExactlyAsync(size, timeout.Token);
            var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
            await stream.ReadExactlyAsync(frame, timeout.Token);
            return KafkaFrames.DecodeResponse(frame, api, version).Body;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            throw new ToolException($"cannot reach the broker at {first}: {e.Message}", ExitCodes.Failed);
        }
    }
}
