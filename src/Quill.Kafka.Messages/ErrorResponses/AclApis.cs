using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

// The ACL APIs' error responses (Kafka's DescribeAclsRequest, CreateAclsRequest and DeleteAclsRequest getErrorResponse).

public sealed partial class DescribeAclsRequestData
{
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new DescribeAclsResponseData { ErrorCode = (short)error };
}

public sealed partial class CreateAclsRequestData
{
    /// <summary>Each requested creation with the error.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new CreateAclsResponseData();
        foreach (var _ in Creations)
            response.Results.Add(new CreateAclsResponseData.ResultsItem { ErrorCode = (short)error });
        return response;
    }
}

public sealed partial class DeleteAclsRequestData
{
    /// <summary>Each filter with the error and no matching ACLs.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new DeleteAclsResponseData();
        foreach (var _ in Filters)
            response.FilterResults.Add(new DeleteAclsResponseData.FilterResultsItem { ErrorCode = (short)error });
        return response;
    }
}
