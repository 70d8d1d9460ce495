using Quill.Broker.Handlers;
using Quill.Broker.Metrics;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Network;

/// <summary>
/// Finds the handler for an API key (Kafka's KafkaApis.handle switch, as a table). Built from every handler the broker
/// was given; an API without a handler is unsupported, exactly as if it were unknown. Given metrics, every handler
/// is wrapped to count and time its requests.
/// </summary>
public sealed class RequestDispatcher
{
    private readonly IRequestHandler?[] _byKey;

    public RequestDispatcher(IEnumerable<IRequestHandler> handlers, BrokerMetrics? metrics = null)
    {
        var list = handlers.ToList();
        _byKey = new IRequestHandler?[list.Count == 0 ? 1 : list.Max(h => (int)h.ApiKey) + 1];
        foreach (var handler in list)
        {
            if (!KafkaApis.TryGet((short)handler.ApiKey, out _))
                throw new ArgumentException($"no message description for {handler.ApiKey}");
            if (_byKey[(int)handler.ApiKey] is { } other)
                throw new ArgumentException($"two handlers for {handler.ApiKey}: {other.GetType().Name} and {handler.GetType().Name}");
            _byKey[(int)handler.ApiKey] = metrics is null ? handler : new MeasuredHandler(handler, metrics);
        }
        Supported = KafkaApis.All.Where(a => Find((short)a.Key) is not null).OrderBy(a => a.Key).ToList();
    }

    /// <summary>The APIs with a handler, each with every version described (what ApiVersions advertises).</summary>
    public IReadOnlyList<Api> Supported { get; }

    public IRequestHandler? Find(short apiKey) => (uint)apiKey < (uint)_byKey.Length ? _byKey[apiKey] : null;
}
