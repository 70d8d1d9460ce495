using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// One API: its key, the versions described, and its request and response bodies. The header versions
/// follow from flexibility: flexible requests use request header v2 (else v1), flexible responses use
/// response header v1 (else v0) — except ApiVersions responses, which always use v0 so that a client
/// can read the answer even when the broker does not support the version it asked with.
/// </summary>
public sealed class Api
{
    public Api(ApiKey key, MessageSchema request, MessageSchema response)
    {
        if (request.ValidVersions != response.ValidVersions)
            throw new ArgumentException($"{key}: request versions {request.ValidVersions} differ from response versions {response.ValidVersions}");
        if (request.FlexibleVersions != response.FlexibleVersions)
            throw new ArgumentException($"{key}: request and response disagree on flexible versions");
        Key = key;
        Request = request;
        Response = response;
    }

    public ApiKey Key { get; }
    public MessageSchema Request { get; }
    public MessageSchema Response { get; }
    public short MinVersion => Request.ValidVersions.Min;
    public short MaxVersion => Request.ValidVersions.Max;
    public VersionRange FlexibleVersions => Request.FlexibleVersions;

    public bool Supports(short version) => Request.ValidVersions.Contains(version);
    /// <summary>Whether a version is flexible. Open-ended, so it also answers for versions newer than described.</summary>
    public bool IsFlexible(short version) => FlexibleVersions.Contains(version);
    public short RequestHeaderVersion(short version) => IsFlexible(version) ? (short)2 : (short)1;
    public short ResponseHeaderVersion(short version) => Key == ApiKey.ApiVersions || !IsFlexible(version) ? (short)0 : (short)1;

    public override string ToString() => $"{Key} v{MinVersion}-{MaxVersion}";
}
