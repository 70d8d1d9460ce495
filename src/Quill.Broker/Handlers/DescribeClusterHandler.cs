using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// DescribeCluster: the brokers, the cluster id and the controller. A broker has no controller endpoints (v1 type 2:
/// MISMATCHED_ENDPOINT_TYPE), other types are UNSUPPORTED_ENDPOINT_TYPE, as in Kafka. v2's IncludeFencedBrokers
/// changes nothing: a registered broker here is never fenced.
/// </summary>
public sealed class DescribeClusterHandler(BrokerServices services) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.DescribeCluster;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var request = context.Body;
        var response = context.NewResponse();
        sbyte endpointType = request.GetInt8("EndpointType");
        if (context.Version >= 1 && endpointType != 1)
        {
            if (endpointType == 2)
                response.SetInt("ErrorCode", (short)KafkaError.MismatchedEndpointType)
                    .SetString("ErrorMessage", "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER");
            else
                response.SetInt("ErrorCode", (short)KafkaError.UnsupportedEndpointType)
                    .SetString("ErrorMessage", $"Unsupported endpoint type {endpointType}");
            return ValueTask.FromResult(response);
        }
        response.SetString("ClusterId", services.Metadata.ClusterId).SetInt("ControllerId", services.Metadata.ControllerId);
        foreach (var broker in services.LiveBrokers)
            response.AddElement("Brokers").SetInt("BrokerId", broker.Id).SetString("Host", broker.Host)
                .SetInt("Port", broker.Port).SetString("Rack", broker.Rack);
        if (request.GetBool("IncludeClusterAuthorizedOperations"))
            response.SetInt("ClusterAuthorizedOperations", MetadataHandler.AllClusterOperations);
        return ValueTask.FromResult(response);
    }
}
