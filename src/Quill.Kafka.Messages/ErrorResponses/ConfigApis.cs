using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

// The config APIs' error responses (Kafka's DescribeConfigsRequest, AlterConfigsRequest and
// IncrementalAlterConfigsRequest getErrorResponse): each requested resource with the error and no configs.

public sealed partial class DescribeConfigsRequestData
{
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new DescribeConfigsResponseData();
        foreach (var resource in Resources)
            response.Results.Add(new DescribeConfigsResponseData.ResultsItem { ResourceType = resource.ResourceType, ResourceName = resource.ResourceName, ErrorCode = (short)error });
        return response;
    }
}

public sealed partial class AlterConfigsRequestData
{
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new AlterConfigsResponseData();
        foreach (var resource in Resources)
            response.Responses.Add(new AlterConfigsResponseData.ResponsesItem { ResourceType = resource.ResourceType, ResourceName = resource.ResourceName, ErrorCode = (short)error });
        return response;
    }
}

public sealed partial class IncrementalAlterConfigsRequestData
{
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new IncrementalAlterConfigsResponseData();
        foreach (var resource in Resources)
            response.Responses.Add(new IncrementalAlterConfigsResponseData.ResponsesItem { ResourceType = resource.ResourceType, ResourceName = resource.ResourceName, ErrorCode = (short)error });
        return response;
    }
}
