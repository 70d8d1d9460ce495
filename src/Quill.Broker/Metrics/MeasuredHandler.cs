using System.Diagnostics;
using Quill.Broker.Handlers;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Metrics;

/// <summary>
/// Wraps a handler to count its requests and time them (Kafka's RequestMetrics RequestsPerSec and TotalTimeMs, from
/// the decoded request to the answer). Calls the handler at once, so the handler's request-order guarantee holds.
/// </summary>
public sealed class MeasuredHandler(IRequestHandler inner, BrokerMetrics metrics) : IRequestHandler
{
    private readonly KeyValuePair<string, object?> _tag = BrokerMetrics.RequestTag(inner.ApiKey);

    public ApiKey ApiKey => inner.ApiKey;

    public ValueTask<IApiResponse> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var pending = inner.HandleAsync(context, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            metrics.RequestAnswered(_tag, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return pending;
        }
        return AwaitAsync(pending, started);
    }

    private async ValueTask<IApiResponse> AwaitAsync(ValueTask<IApiResponse> pending, long started)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        finally
        {
            metrics.RequestAnswered(_tag, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
