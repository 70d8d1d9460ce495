using System.Buffers.Binary;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Broker.Metadata;

/// <summary>
/// The controller's connections to the brokers (Kafka's ControllerChannelManager): one queue, one connection and one
/// sending loop per live broker, so requests reach each broker in the order the controller decided them and a slow
/// or dead broker holds up only its own queue. A request that fails (connection refused or lost, no answer within
/// the timeout) is sent again on a new connection after a back-off, as Kafka's RequestSendThread does, until it is
/// answered or the broker is removed (its registration went, or it registered again: a new queue then). Answers
/// carrying an error are logged; the controller does not wait for them.
/// </summary>
internal sealed class ControllerChannel(int controllerId, ILogger log, string listenerName) : IAsyncDisposable
{
    public const short LeaderAndIsrVersion = 7;
    public const short StopReplicaVersion = 4;
    public const short UpdateMetadataVersion = 8;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RetryBackoff = TimeSpan.FromMilliseconds(100);
    private const int MaxResponseBytes = 16 * 1024 * 1024;

    private readonly Dictionary<int, BrokerQueue> _queues = [];
    private int _correlationId;

    /// <summary>
    /// The listener the controller reaches brokers on (control.plane.listener.name, else inter.broker.listener.name:
    /// <see cref="MetadataCache.ControllerToBrokerEndpoint"/> picks the same).
    /// </summary>
    public string ListenerName => listenerName;

    /// <summary>Whether a queue is open to this registration of the broker (same id and broker epoch).</summary>
    public bool Has(BrokerInfo broker) => _queues.TryGetValue(broker.Id, out var q) && q.Broker.Epoch == broker.Epoch;

    public IEnumerable<int> BrokerIds => _queues.Keys;

    /// <summary>Opens a queue to a broker (replacing one to an earlier registration of it).</summary>
    public void AddBroker(BrokerInfo broker)
    {
        RemoveBroker(broker.Id);
        _queues[broker.Id] = new BrokerQueue(broker, this);
    }

    /// <summary>Closes a broker's queue; requests still queued for it are dropped (the broker is gone).</summary>
    public void RemoveBroker(int id)
    {
        if (_queues.Remove(id, out var queue)) queue.Stop();
    }

    /// <summary>Queues a request for a broker; false if no queue is open to it.</summary>
    public bool Send(int brokerId, IApiRequest request, short version)
    {
        if (!_queues.TryGetValue(brokerId, out var queue)) return false;
        return queue.Requests.Writer.TryWrite((request, version));
    }

    public async ValueTask DisposeAsync()
    {
        var queues = _queues.Values.ToList();
        _queues.Clear();
        foreach (var q in queues) q.Stop();
        foreach (var q in queues) await q.Loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private sealed class BrokerQueue
    {
        public readonly BrokerInfo Broker;
        public readonly Channel<(IApiRequest Request, short Version)> Requests =
            Channel.CreateUnbounded<(IApiRequest, short)>(new UnboundedChannelOptions { SingleReader = true });
        public readonly Task Loop;
        private readonly CancellationTokenSource _stop = new();
        private readonly ControllerChannel _owner;
        private TcpClient? _client;

        public BrokerQueue(BrokerInfo broker, ControllerChannel owner)
        {
            Broker = broker;
            _owner = owner;
            Loop = Task.Run(RunAsync);
        }

        public void Stop()
        {
            _stop.Cancel();
            Requests.Writer.TryComplete();
        }

        private async Task RunAsync()
        {
            var ct = _stop.Token;
            try
            {
                await foreach (var (request, version) in Requests.Reader.ReadAllAsync(ct))
                {
                    for (int attempt = 1; ; attempt++)
                    {
                        try
                        {
                            var response = await SendAsync(request, version, ct);
                            LogErrors(request.ApiKey, response);
                            break;
                        }
                        catch (Exception e) when (!ct.IsCancellationRequested)
                        {
                            Close();
                            if (attempt == 1 || attempt % 50 == 0)
                                _owner._log.LogWarning("Controller {Controller}: sending {Api} to broker {Broker} failed ({Reason}); retrying",
                                    _owner._controllerId, request.ApiKey, Broker.Id, e.Message);
                            await Task.Delay(RetryBackoff, ct);
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
            finally
            {
                Close();
            }
        }

        private async Task<IApiResponse> SendAsync(IApiRequest request, short version, CancellationToken ct)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(RequestTimeout);
            if (_client is not { Connected: true })
            {
                Close();
                var (_, host, port) = Broker.EndpointFor(_owner.ListenerName)
                    ?? throw new IOException($"broker {Broker.Id} registered no {_owner.ListenerName} listener, the one the controller sends on");
                var client = new TcpClient { NoDelay = true };
                try
                {
                    await client.ConnectAsync(host, port, timeout.Token);
                }
                catch
                {
                    client.Dispose();
                    throw;
                }
                _client = client;
            }
            var stream = _client.GetStream();
            int correlationId = Interlocked.Increment(ref _owner._correlationId);
            using (var writer = new KafkaWriter())
            {
                MessageFrames.WriteRequest(writer, new RequestHeader((short)request.ApiKey, version, correlationId, $"quill-controller-{_owner._controllerId}"), request);
                await stream.WriteAsync(writer.WrittenMemory, timeout.Token);
            }
            var size = new byte[4];
            await stream.ReadExactlyAsync(size, timeout.Token);
            int length = BinaryPrimitives.ReadInt32BigEndian(size);
            if (length < 0 || length > MaxResponseBytes) throw new IOException($"response of {length} bytes");
            var frame = new byte[length];
            await stream.ReadExactlyAsync(frame, timeout.Token);
            (int answered, IApiResponse response) = request.ApiKey switch
            {
                ApiKey.LeaderAndIsr => Read<LeaderAndIsrResponseData>(frame, ApiKey.LeaderAndIsr, version),
                ApiKey.StopReplica => Read<StopReplicaResponseData>(frame, ApiKey.StopReplica, version),
                ApiKey.UpdateMetadata => Read<UpdateMetadataResponseData>(frame, ApiKey.UpdateMetadata, version),
                _ => throw new InvalidOperationException($"the controller does not send {request.ApiKey}"),
            };
            if (answered != correlationId) throw new IOException($"response to request {answered}, expected {correlationId}");
            return response;
        }

        private static (int, IApiResponse) Read<T>(byte[] frame, ApiKey key, short version) where T : class, IApiResponse, IKafkaMessage<T>
        {
            var (correlationId, response) = MessageFrames.ReadResponse<T>(frame, key, version);
            return (correlationId, response);
        }

        private void LogErrors(ApiKey key, IApiResponse response)
        {
            var (top, partitions) = response switch
            {
                LeaderAndIsrResponseData r => (r.ErrorCode, r.Topics.SelectMany(t => t.PartitionErrors).Count(p => p.ErrorCode != 0)),
                StopReplicaResponseData r => (r.ErrorCode, r.PartitionErrors.Count(p => p.ErrorCode != 0)),
                UpdateMetadataResponseData r => (r.ErrorCode, 0),
                _ => ((short)0, 0),
            };
            if (top != 0)
                _owner._log.LogWarning("Controller {Controller}: broker {Broker} answered {Api} with {Error}", _owner._controllerId, Broker.Id, key, (KafkaError)top);
            else if (partitions > 0)
                _owner._log.LogInformation("Controller {Controller}: broker {Broker} answered {Api} with errors on {Count} partition(s)",
                    _owner._controllerId, Broker.Id, key, partitions);
        }

        private void Close()
        {
            _client?.Dispose();
            _client = null;
        }
    }

    private readonly ILogger _log = log;
    private readonly int _controllerId = controllerId;
}
