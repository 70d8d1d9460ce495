using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

public sealed partial class ApiVersionsRequestData
{
    /// <summary>Kafka's ApiVersionsRequest.getErrorResponse: the error and no API keys.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new ApiVersionsResponseData { ErrorCode = (short)error };
}
