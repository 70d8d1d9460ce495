using System.Buffers.Binary;
using System.Net.Sockets;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Commands.Kafka;

/// <summary>
/// The cluster-wide broker defaults (`--entity-type brokers --entity-default`): the broker resource named "". The .NET
/// Kafka client refuses an empty resource name, so these two requests go over a plain connection to the first bootstrap
/// broker, written and read with the same generated message classes the broker uses.
/// </summary>
internal static class BrokerDefaultConfigs
{
    private const sbyte BrokerResource = 4;

    /// <summary>The configs set for every broker: (name, value) pairs.</summary>
    public static async Task<List<(string Name, string? Value)>> DescribeAsync(string bootstrap, CancellationToken ct)
    {
        var request = new DescribeConfigsRequestData();
        request.Resources.Add(new DescribeConfigsRequestData.ResourcesItem { ResourceType = BrokerResource, ResourceName = "", ConfigurationKeys = null });
        var response = await RequestAsync<DescribeConfigsResponseData>(bootstrap, request, 1, ct);
        var result = response.Results.FirstOrDefault() ?? throw new ToolException("the broker returned no result", ExitCodes.Failed);
        ThrowIfError(result.ErrorCode, result.ErrorMessage);
        return [.. result.Configs.Select(c => (c.Name, c.Value))];
    }

    /// <summary>Sets (value given) or deletes (value null) configs for every broker.</summary>
    public static async Task AlterAsync(string bootstrap, IEnumerable<(string Name, string? Value)> changes, CancellationToken ct)
    {
        var resource = new IncrementalAlterConfigsRequestData.ResourcesItem { ResourceType = BrokerResource, ResourceName = "" };
        foreach (var (name, value) in changes)
        {
            resource.Configs.Add(new IncrementalAlterConfigsRequestData.ResourcesItem.ConfigsItem
            {
                Name = name, ConfigOperation = (sbyte)(value is null ? 1 : 0), Value = value,
            });
        }
        var request = new IncrementalAlterConfigsRequestData();
        request.Resources.Add(resource);
        var response = await RequestAsync<IncrementalAlterConfigsResponseData>(bootstrap, request, 0, ct);
        var result = response.Responses.FirstOrDefault() ?? throw new ToolException("the broker returned no result", ExitCodes.Failed);
        ThrowIfError(result.ErrorCode, result.ErrorMessage);
    }

    private static void ThrowIfError(short errorCode, string? message)
    {
        var error = (KafkaError)errorCode;
        if (error != KafkaError.None)
            throw new ToolException($"{error}: {message ?? "(no message)"}", ExitCodes.Failed);
    }

    private static async Task<TResponse> RequestAsync<TResponse>(string bootstrap, IApiRequest body, short version, CancellationToken ct)
        where TResponse : class, IApiResponse, IKafkaMessage<TResponse>
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
                MessageFrames.WriteRequest(writer, new RequestHeader((short)body.ApiKey, version, 1, "quill-configs"), body);
                await stream.WriteAsync(writer.WrittenMemory, timeout.Token);
            }
            var size = new byte[4];
            await stream.ReadExactlyAsync(size, timeout.Token);
            var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
            await stream.ReadExactlyAsync(frame, timeout.Token);
            return MessageFrames.ReadResponse<TResponse>(frame, body.ApiKey, version).Body;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            throw new ToolException($"cannot reach the broker at {first}: {e.Message}", ExitCodes.Failed);
        }
    }
}
