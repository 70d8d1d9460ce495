using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Recipes;

/// <summary>
/// Group membership (Curator's GroupMember): each member is an ephemeral node <c>groupPath/memberId</c> holding
/// the member's data, so a crashed member leaves the group when its session ends. Members see the current
/// membership through <see cref="GetMembersAsync"/> and <see cref="MembershipChanged"/>.
/// </summary>
public sealed class GroupMember : IAsyncDisposable
{
    private readonly KeeperClient _client;
    private readonly byte[] _data;
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private IReadOnlyDictionary<string, byte[]> _members = new Dictionary<string, byte[]>();
    private volatile bool _joined;

    public GroupMember(KeeperClient client, string groupPath, string memberId, byte[]? data = null)
    {
        if (memberId.Length == 0 || memberId.Contains('/') || PathUtils.Validate(PathUtils.Join(groupPath, memberId)) is not null)
            throw new ArgumentException($"bad group path or member id: '{groupPath}', '{memberId}'", nameof(memberId));
        _client = client;
        GroupPath = groupPath;
        MemberId = memberId;
        _data = data ?? [];
    }

    public string GroupPath { get; }
    public string MemberId { get; }
    private string NodePath => PathUtils.Join(GroupPath, MemberId);

    /// <summary>The membership as last seen: member id to data.</summary>
    public IReadOnlyDictionary<string, byte[]> Members => _members;

    /// <summary>Raised with the new membership whenever a member joins, leaves, or the first look completes.</summary>
    public event EventHandler<IReadOnlyDictionary<string, byte[]>>? MembershipChanged;

    /// <summary>Joins the group. A member id already taken by another session is NodeExists.</summary>
    public async Task JoinAsync(CancellationToken cancellationToken = default)
    {
        await _client.EnsurePathAsync(GroupPath, cancellationToken);
        try
        {
            await _client.CreateAsync(NodePath, _data, mode: CreateMode.Ephemeral, cancellationToken: cancellationToken);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
        {
            // Ours already, from a create whose reply was lost? Then keep it; otherwise the id is taken.
            var stat = await _client.ExistsAsync(NodePath, cancellationToken: cancellationToken);
            if (stat?.EphemeralOwner != _client.SessionId) throw;
        }
        _joined = true;
        _client.StateChanged += OnSessionState;
        await RefreshAsync();
    }

    /// <summary>Replaces this member's data.</summary>
    public Task UpdateDataAsync(byte[] data, CancellationToken cancellationToken = default) =>
        _client.SetDataAsync(NodePath, data, cancellationToken: cancellationToken);

    /// <summary>Reads the membership now.</summary>
    public async Task<IReadOnlyDictionary<string, byte[]>> GetMembersAsync(CancellationToken cancellationToken = default)
    {
        var members = new Dictionary<string, byte[]>();
        foreach (var id in await _client.GetChildrenAsync(GroupPath, cancellationToken: cancellationToken))
        {
            try
            {
                members[id] = (await _client.GetDataAsync(PathUtils.Join(GroupPath, id), cancellationToken: cancellationToken)).Data;
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
                // Left meanwhile.
            }
        }
        return members;
    }

    public async Task LeaveAsync()
    {
        if (!_joined) return;
        _joined = false;
        _client.StateChanged -= OnSessionState;
        try
        {
            await Retry.OnConnectionLossAsync(_client, () => _client.DeleteIfExistsAsync(NodePath), CancellationToken.None);
        }
        catch (Exception e) when (e is KeeperException or ObjectDisposedException)
        {
            // The session is gone, and the ephemeral node with it.
        }
    }

    public async ValueTask DisposeAsync() => await LeaveAsync();

    /// <summary>
    /// Re-reads the membership and re-arms the child watch; runs one at a time, and raises MembershipChanged
    /// before the next refresh starts, so handlers hear the memberships in the order they were read.
    /// </summary>
    private async Task RefreshAsync()
    {
        await _refreshGate.WaitAsync();
        try
        {
            if (!_joined) return;
            IReadOnlyDictionary<string, byte[]> members;
            try
            {
                await _client.GetChildrenAsync(GroupPath, OnGroupEvent);
                members = await GetMembersAsync();
            }
            catch (Exception e) when (e is KeeperException or ObjectDisposedException)
            {
                _client.Logger.LogDebug(e, "Group {Path} refresh failed", GroupPath);
                return;
            }
            _members = members;
            MembershipChanged?.Invoke(this, members);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private void OnGroupEvent(WatchedEvent e)
    {
        if (e.Type != EventType.None) _ = RefreshAsync();
    }

    /// <summary>A refresh cut short by a lost connection may not have set its watch: look again once connected.</summary>
    private void OnSessionState(object? sender, SessionState state)
    {
        if (state == SessionState.Connected) _ = RefreshAsync();
    }
}
