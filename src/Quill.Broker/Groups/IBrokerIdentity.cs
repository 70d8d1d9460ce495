namespace Quill.Broker.Groups;

/// <summary>Who this broker is to clients, and which broker coordinates the groups of a <c>__consumer_offsets</c> partition.</summary>
public interface IBrokerIdentity
{
    int NodeId { get; }
    /// <summary>The advertised host clients connect to.</summary>
    string Host { get; }
    int Port { get; }

    /// <summary>
    /// The broker that coordinates the groups of an offsets partition (the partition's leader), or null if it has no
    /// live leader. By default this broker, which then coordinates every group.
    /// </summary>
    (int NodeId, string Host, int Port)? CoordinatorOf(int offsetsPartition) => (NodeId, Host, Port);

    /// <summary>
    /// A broker's endpoint on the listener a request came in on, or null when it does not have that listener (the
    /// coordinator is then not available to that client). By default the endpoint as given.
    /// </summary>
    (int NodeId, string Host, int Port)? OnListener((int NodeId, string Host, int Port) endpoint, string listenerName) => endpoint;
}
