using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>DescribeAcls (29): v1 resource pattern type, v2 flexible, v3 same bytes (user resource type).</summary>
public static class DescribeAclsApi
{
    public static readonly MessageSchema Request = new("DescribeAclsRequest", "0-3", "2+",
        Int8("ResourceTypeFilter", "0+"),
        String("ResourceNameFilter", "0+").Nullable("0+"),
        Int8("PatternTypeFilter", "1+", 3),
        String("PrincipalFilter", "0+").Nullable("0+"),
        String("HostFilter", "0+").Nullable("0+"),
        Int8("Operation", "0+"),
        Int8("PermissionType", "0+"));

    public static readonly MessageSchema Response = new("DescribeAclsResponse", "0-3", "2+",
        Int32("ThrottleTimeMs", "0+"),
        Int16("ErrorCode", "0+"),
        String("ErrorMessage", "0+").Nullable("0+"),
        Array("Resources", "0+",
            Int8("ResourceType", "0+"),
            String("ResourceName", "0+"),
            Int8("PatternType", "1+", 3),
            Array("Acls", "0+",
                String("Principal", "0+"),
                String("Host", "0+"),
                Int8("Operation", "0+"),
                Int8("PermissionType", "0+"))));
}

/// <summary>CreateAcls (30): v1 resource pattern type, v2 flexible, v3 same bytes (user resource type).</summary>
public static class CreateAclsApi
{
    public static readonly MessageSchema Request = new("CreateAclsRequest", "0-3", "2+",
        Array("Creations", "0+",
            Int8("ResourceType", "0+"),
            String("ResourceName", "0+"),
            Int8("ResourcePatternType", "1+", 3),
            String("Principal", "0+"),
            String("Host", "0+"),
            Int8("Operation", "0+"),
            Int8("PermissionType", "0+")));

    public static readonly MessageSchema Response = new("CreateAclsResponse", "0-3", "2+",
        Int32("ThrottleTimeMs", "0+"),
        Array("Results", "0+",
            Int16("ErrorCode", "0+"),
            String("ErrorMessage", "0+").Nullable("0+")));
}

/// <summary>DeleteAcls (31): v1 resource pattern type, v2 flexible, v3 same bytes (user resource type).</summary>
public static class DeleteAclsApi
{
    public static readonly MessageSchema Request = new("DeleteAclsRequest", "0-3", "2+",
        Array("Filters", "0+",
            Int8("ResourceTypeFilter", "0+"),
            String("ResourceNameFilter", "0+").Nullable("0+"),
            Int8("PatternTypeFilter", "1+", 3),
            String("PrincipalFilter", "0+").Nullable("0+"),
            String("HostFilter", "0+").Nullable("0+"),
            Int8("Operation", "0+"),
            Int8("PermissionType", "0+")));

    public static readonly MessageSchema Response = new("DeleteAclsResponse", "0-3", "2+",
        Int32("ThrottleTimeMs", "0+"),
        Array("FilterResults", "0+",
            Int16("ErrorCode", "0+"),
            String("ErrorMessage", "0+").Nullable("0+"),
            Array("MatchingAcls", "0+",
                Int16("ErrorCode", "0+"),
                String("ErrorMessage", "0+").Nullable("0+"),
                Int8("ResourceType", "0+"),
                String("ResourceName", "0+"),
                Int8("PatternType", "1+", 3),
                String("Principal", "0+"),
                String("Host", "0+"),
                Int8("Operation", "0+"),
                Int8("PermissionType", "0+"))));
}
