using System.Net;
using Quill.Broker.Groups;

namespace Quill.Broker.Handlers.Groups;

/// <summary>The handlers of the group APIs, for the broker to register.</summary>
public static class GroupHandlers
{
    /// <summary>
    /// FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListGroups,
    /// DescribeGroups and DeleteGroups, all answered by <paramref name="coordinator"/>; FindCoordinator names
    /// <paramref name="broker"/>. <paramref name="partitionExists"/> (topic, partition) lets OffsetCommit refuse
    /// unknown partitions with UNKNOWN_TOPIC_OR_PARTITION as Kafka does; without it every partition is accepted.
    /// <paramref name="startTransactionCoordinator"/> (true once it serves) lets FindCoordinator answer transaction keys,
    /// naming the broker <paramref name="transactionCoordinatorOf"/> gives for the key (by default this one);
    /// <paramref name="ensureOffsetsTopic"/> creates <c>__consumer_offsets</c> at the first group key if it is missing.
    /// </summary>
    public static IReadOnlyList<IRequestHandler> Create(GroupCoordinator coordinator, IBrokerIdentity broker,
        Func<string, int, bool>? partitionExists = null, Func<CancellationToken, Task<bool>>? startTransactionCoordinator = null,
        Func<string, (int NodeId, string Host, int Port)?>? transactionCoordinatorOf = null,
        Func<CancellationToken, Task<bool>>? ensureOffsetsTopic = null) =>
    [
        new FindCoordinatorHandler(coordinator, broker, startTransactionCoordinator, transactionCoordinatorOf, ensureOffsetsTopic),
        new JoinGroupHandler(coordinator),
        new SyncGroupHandler(coordinator),
        new HeartbeatHandler(coordinator),
        new LeaveGroupHandler(coordinator),
        new OffsetCommitHandler(coordinator, partitionExists),
        new OffsetFetchHandler(coordinator),
        new ListGroupsHandler(coordinator),
        new DescribeGroupsHandler(coordinator),
        new DeleteGroupsHandler(coordinator),
    ];

    /// <summary>A member's client host as Kafka shows it ("/127.0.0.1"), from the connection's address (with or without a port).</summary>
    internal static string ClientHost(string clientAddress)
    {
        if (IPEndPoint.TryParse(clientAddress, out var endpoint)) return "/" + endpoint.Address;
        return clientAddress.StartsWith('/') ? clientAddress : "/" + clientAddress;
    }
}
