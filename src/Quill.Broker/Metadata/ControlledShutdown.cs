using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Broker.Metadata;

/// <summary>
/// The stopping broker's side of a controlled shutdown (Kafka's KafkaServer.controlledShutdown): ask the controller,
/// with ControlledShutdown v3, to move this broker's leaderships away (or ask the local controller directly if this
/// broker is it), up to controlled.shutdown.max.retries attempts, controlled.shutdown.retry.backoff.ms apart, while it
/// fails or partitions remain led here. Whatever the outcome the broker then stops; the whole attempt is bounded so
/// a stop stays within the host's shutdown timeout.
/// </summary>
public static class ControlledShutdown
{
    private const short Version = 3;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Overall = TimeSpan.FromSeconds(20);

    /// <summary>True when the controller reported no partition left led here.</summary>
    public static async Task<bool> RunAsync(Controller controller, MetadataCache cache, BrokerOptions options, TimeProvider time, ILogger log)
    {
        using var overall = new CancellationTokenSource(Overall, time);
        var ct = overall.Token;
        for (int attempt = 1; attempt <= options.ControlledShutdownMaxRetries; attempt++)
        {
            string outcome;
            try
            {
                var (error, remaining) = await AskControllerAsync(controller, cache, options, ct);
                if (error == KafkaError.None && remaining.Count == 0)
                {
                    log.LogInformation("Controlled shutdown succeeded: no partition is led by broker {Id} any more", options.BrokerId);
                    return true;
                }
                outcome = error != KafkaError.None ? $"the controller answered {error}"
                    : $"{remaining.Count} partition(s) still led here: {string.Join(", ", remaining.Take(10).Select(r => $"{r.Topic}-{r.Partition}"))}";
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is IOException or SocketException or EndOfStreamException or KafkaProtocolException or OperationCanceledException)
            {
                outcome = e.Message;
            }
            log.LogWarning("Controlled shutdown attempt {Attempt} of {Max} did not finish: {Outcome}", attempt, options.ControlledShutdownMaxRetries, outcome);
            if (attempt == options.ControlledShutdownMaxRetries) break;
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(options.ControlledShutdownRetryBackoffMs), time, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        log.LogWarning("Proceeding to stop without a complete controlled shutdown");
        return false;
    }

    private static async Task<(KafkaError Error, List<(string Topic, int Partition)> Remaining)> AskControllerAsync(Controller controller,
        MetadataCache cache, BrokerOptions options, CancellationToken ct)
    {
        long epoch = cache.Brokers.FirstOrDefault(b => b.Id == options.BrokerId)?.Epoch ?? -1;
        if (controller.IsActive) return await controller.ControlledShutdownAsync(options.BrokerId, epoch, ct);
        int controllerId = cache.ControllerId;
        if (cache.InterBrokerEndpoint(controllerId) is not { } target)
            return (KafkaError.NotController, []); // no controller known right now: try again after the back-off
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(RequestTimeout);
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(target.Host, target.Port, timeout.Token);
        var stream = client.GetStream();
        var request = new ControlledShutdownRequestData { BrokerId = options.BrokerId, BrokerEpoch = epoch };
        using (var writer = new KafkaWriter())
        {
            MessageFrames.WriteRequest(writer, new RequestHeader((short)ApiKey.ControlledShutdown, Version, 1, $"quill-broker-{options.BrokerId}"), request);
            await stream.WriteAsync(writer.WrittenMemory, timeout.Token);
        }
        var size = new byte[4];
        await stream.ReadExactlyAsync(size, timeout.Token);
        int length = BinaryPrimitives.ReadInt32BigEndian(size);
        if (length is < 0 or > 64 * 1024 * 1024) throw new IOException($"response of {length} bytes");
        var frame = new byte[length];
        await stream.ReadExactlyAsync(frame, timeout.Token);
        var (_, response) = MessageFrames.ReadResponse<ControlledShutdownResponseData>(frame, ApiKey.ControlledShutdown, Version);
        return ((KafkaError)response.ErrorCode, [.. response.RemainingPartitions.Select(p => (p.TopicName, p.PartitionIndex))]);
    }
}
