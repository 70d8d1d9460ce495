namespace Quill.Broker.Groups;

/// <summary>
/// One member of a classic group (Kafka's MemberMetadata). Owned by its group: only touched on its shard's event loop.
/// A member waiting in a JoinGroup or SyncGroup round holds the completion its request awaits.
/// </summary>
internal sealed class GroupMember(string memberId, string? groupInstanceId, string clientId, string clientHost)
{
    public string MemberId { get; } = memberId;
    public string? GroupInstanceId { get; } = groupInstanceId;
    public string ClientId { get; set; } = clientId;
    public string ClientHost { get; set; } = clientHost;
    public int SessionTimeoutMs { get; set; }
    public int RebalanceTimeoutMs { get; set; }
    public string ProtocolType { get; set; } = "";
    public IReadOnlyList<GroupProtocol> Protocols { get; set; } = [];
    public byte[] Assignment { get; set; } = [];

    /// <summary>Set while the member waits for the join round to complete.</summary>
    public TaskCompletionSource<JoinGroupResult>? JoinWaiter { get; set; }
    /// <summary>Set while the member waits for the leader's assignment.</summary>
    public TaskCompletionSource<SyncGroupResult>? SyncWaiter { get; set; }

    /// <summary>Joined but no join round has completed for it yet (it cannot heartbeat).</summary>
    public bool IsNew { get; set; }
    public long JoinedAtMs { get; set; }
    public long LastHeartbeatMs { get; set; }
    /// <summary>Fires by the member's session deadline; created when the member joins, disposed when it leaves.</summary>
    public DeadlineTimer? SessionTimer { get; set; }

    public bool IsStatic => GroupInstanceId is not null;
    public bool IsAwaitingJoin => JoinWaiter is not null;
    public bool IsAwaitingSync => SyncWaiter is not null;

    public static TaskCompletionSource<T> NewWaiter<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The metadata the member sent for <paramref name="protocol"/> (empty if it does not support it).</summary>
    public byte[] MetadataFor(string? protocol)
    {
        foreach (var p in Protocols)
            if (p.Name == protocol) return p.Metadata;
        return [];
    }

    public bool Supports(string protocol)
    {
        foreach (var p in Protocols)
            if (p.Name == protocol) return true;
        return false;
    }

    /// <summary>Whether <paramref name="protocols"/> are exactly what the member already sent (names, order and bytes).</summary>
    public bool Matches(IReadOnlyList<GroupProtocol> protocols)
    {
        if (protocols.Count != Protocols.Count) return false;
        for (int i = 0; i < protocols.Count; i++)
            if (protocols[i].Name != Protocols[i].Name || !protocols[i].Metadata.AsSpan().SequenceEqual(Protocols[i].Metadata)) return false;
        return true;
    }

    /// <summary>The member's most preferred protocol among <paramref name="candidates"/>.</summary>
    public string? Vote(ICollection<string> candidates)
    {
        foreach (var p in Protocols)
            if (candidates.Contains(p.Name)) return p.Name;
        return null;
    }

    public void CompleteJoin(JoinGroupResult result)
    {
        var waiter = JoinWaiter;
        JoinWaiter = null;
        waiter?.TrySetResult(result);
    }

    public void CompleteSync(SyncGroupResult result)
    {
        var waiter = SyncWaiter;
        SyncWaiter = null;
        waiter?.TrySetResult(result);
    }

    public override string ToString() => GroupInstanceId is null ? MemberId : $"{MemberId} ({GroupInstanceId})";
}
