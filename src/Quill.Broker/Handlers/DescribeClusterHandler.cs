using Quill.Broker.Metadata;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// DescribeCluster: the brokers, the cluster id and the controller. A broker has no controller endpoints (v1 type 2:
/// MISMATCHED_ENDPOINT_TYPE), other types are UNSUPPORTED_ENDPOINT_TYPE, as in Kafka. v2's IncludeFencedBrokers
/// changes nothing: a registered broker here is never fenced. Brokers are given by their endpoint on the listener the
/// request came in on (those without it are left out), as Kafka does.
/// </summary>
public sealed class DescribeClusterHandler(BrokerServices services) : ApiHandler<DescribeClusterRequestData, DescribeClusterResponseData>
{
    public override ApiKey ApiKey => ApiKey.DescribeCluster;

    public override ValueTask<DescribeClusterResponseData> HandleAsync(DescribeClusterRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new DescribeClusterResponseData();
        if (context.Version >= 1 && request.EndpointType != 1)
        {
            response.ErrorCode = (short)(request.EndpointType == 2 ? KafkaError.MismatchedEndpointType : KafkaError.UnsupportedEndpointType);
            response.ErrorMessage = request.EndpointType == 2
                ? "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER"
                : $"Unsupported endpoint type {request.EndpointType}";
            return ValueTask.FromResult(response);
        }
        response.ClusterId = services.Metadata.ClusterId;
        response.ControllerId = services.Metadata.ControllerId;
        foreach (var broker in services.LiveBrokers.Select(b => b.On(context.ListenerName)).OfType<BrokerInfo>())
            response.Brokers.Add(new DescribeClusterResponseData.BrokersItem { BrokerId = broker.Id, Host = broker.Host, Port = broker.Port, Rack = broker.Rack });
        if (request.IncludeClusterAuthorizedOperations) response.ClusterAuthorizedOperations = MetadataHandler.AllClusterOperations;
        return ValueTask.FromResult(response);
    }
}
