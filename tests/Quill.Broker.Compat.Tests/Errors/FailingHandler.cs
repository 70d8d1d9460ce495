using Quill.Broker.Handlers;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Compat.Tests.Errors;

/// <summary>A handler that fails the way a bug would: an exception no handler code expects.</summary>
public sealed class FailingHandler<TRequest, TResponse>(ApiKey apiKey, bool afterAwait) : ApiHandler<TRequest, TResponse>
    where TRequest : class, IApiRequest
    where TResponse : class, IApiResponse
{
    public override ApiKey ApiKey => apiKey;

    public override async ValueTask<TResponse> HandleAsync(TRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        // Both ways a handler can fail: before it returns its task, and in the task.
        if (afterAwait) await Task.Yield();
        throw new InvalidOperationException($"{apiKey} failed on purpose");
    }
}

public static class FailingHandlers
{
    public const string Reason = "failed on purpose";

    /// <summary>A failing handler of <paramref name="key"/>'s generated classes.</summary>
    public static IRequestHandler For(ApiKey key, bool afterAwait = false)
    {
        var type = typeof(FailingHandler<,>).MakeGenericType(KafkaMessages.NewRequest(key).GetType(), KafkaMessages.NewResponse(key).GetType());
        return (IRequestHandler)Activator.CreateInstance(type, key, afterAwait)!;
    }

    /// <summary>Every API but ApiVersions (which the broker adds itself), each failing, half of them after an await.</summary>
    public static IEnumerable<IRequestHandler> All(BrokerServices _) =>
        KafkaApis.All.Where(api => api.Key != ApiKey.ApiVersions).Select((api, i) => For(api.Key, afterAwait: i % 2 == 1));
}
