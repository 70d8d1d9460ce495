namespace Quill.Broker.Handlers.Acls;

/// <summary>
/// The broker has no authorizer (Kafka's authorizer.class.name unset), so the ACL APIs answer SECURITY_DISABLED
/// with the message a Kafka broker gives, which clients and tools show to the user.
/// </summary>
internal static class NoAuthorizer
{
    public const string Message = "No Authorizer is configured on the broker";
}
