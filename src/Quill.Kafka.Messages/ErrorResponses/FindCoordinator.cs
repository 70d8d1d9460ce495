using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

public sealed partial class FindCoordinatorRequestData
{
    /// <summary>
    /// Kafka's FindCoordinatorRequest.getErrorResponse: no coordinator (node -1, host "", port -1) with the error;
    /// v0-3 at the top level, v4+ for each requested key.
    /// </summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new FindCoordinatorResponseData { ErrorCode = (short)error, NodeId = -1, Host = "", Port = -1 };
        foreach (string key in CoordinatorKeys)
            response.Coordinators.Add(new FindCoordinatorResponseData.CoordinatorsItem { Key = key, NodeId = -1, Host = "", Port = -1, ErrorCode = (short)error });
        return response;
    }
}
