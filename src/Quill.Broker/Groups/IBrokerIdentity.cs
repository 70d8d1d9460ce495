namespace Quill.Broker.Groups;

/// <summary>Who this broker is to clients: FindCoordinator answers with it (one broker coordinates every group).</summary>
public interface IBrokerIdentity
{
    int NodeId { get; }
    /// <summary>The advertised host clients connect to.</summary>
    string Host { get; }
    int Port { get; }
}
