using System.Text.Json;
using Quill.Keeper.Client;
using Quill.Keeper.Client.Recipes;
using Quill.Keeper.Protocol;
using Quill.Streams.Api;

namespace Quill.Streams.HighAvailability;

/// <summary>
/// One instance's part in a highly available job, for one Keeper session: the session, the leader election (a
/// <see cref="LeaderLatch"/> under <see cref="HaPaths.Leader"/>), the instance's info znode, and <see cref="Lost"/>,
/// cancelled when this session can no longer be trusted to hold leadership: it expired, or it has been disconnected,
/// or out of the lead, for a whole session timeout (by then the server has expired it and a standby may lead).
/// A leader then stops processing: Keeper writes of this session are fenced by it anyway (each checks the latch node
/// in the same multi), and exactly-once output by the next leader's InitTransactions.
/// </summary>
internal sealed class KeeperHaServices : IAsyncDisposable
{
    private readonly CancellationTokenSource _lost = new();
    private readonly ITimer _suspect;
    private readonly HighAvailabilityOptions _options;
    private readonly Lock _lock = new();
    private bool _wasLeader;
    private int _losing;
    private bool _disposed;

    private KeeperHaServices(KeeperClient client, HighAvailabilityOptions options, HaPaths paths, string instanceId)
    {
        Client = client;
        _options = options;
        Paths = paths;
        InstanceId = instanceId;
        Latch = new LeaderLatch(client, paths.Leader, instanceId);
        _suspect = TimeProvider.System.CreateTimer(_ => Lose("the Keeper session was disconnected, or out of the lead, for a session timeout"),
            null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public KeeperClient Client { get; }
    public HaPaths Paths { get; }
    public string InstanceId { get; }
    public LeaderLatch Latch { get; }

    /// <summary>Cancelled once this session is lost (see the class summary); a new one is needed to take part again.</summary>
    public CancellationToken Lost => _lost.Token;

    public static string DefaultInstanceId() => $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <param name="endpoint">Scale-out: where this instance takes the other instances' records (host:port), in its info znode.</param>
    public static async Task<KeeperHaServices> StartAsync(HighAvailabilityOptions options, string jobName, CancellationToken cancellationToken,
        string? endpoint = null)
    {
        var client = await KeeperClient.ConnectAsync(options.Keeper, new KeeperClientOptions { SessionTimeout = options.SessionTimeout }, cancellationToken);
        var services = new KeeperHaServices(client, options, new HaPaths(options.Root, options.EffectiveJobId(jobName)), options.InstanceId ?? DefaultInstanceId())
        {
            Endpoint = endpoint,
        };
        try
        {
            await services.JoinAsync(cancellationToken);
            return services;
        }
        catch
        {
            await services.DisposeAsync();
            throw;
        }
    }

    private async Task JoinAsync(CancellationToken cancellationToken)
    {
        foreach (string path in (string[])[Paths.Leader, Paths.Checkpoints, Paths.Instances, Paths.SavepointRequests])
            await KeeperRetry.IdempotentAsync(async () =>
            {
                await Client.EnsurePathAsync(path, cancellationToken);
                return true;
            });
        Client.StateChanged += OnSessionState;
        Latch.LeadershipChanged += OnLeadership;
        await WriteInfoAsync(create: true, cancellationToken);
        await Latch.StartAsync(cancellationToken);
    }

    /// <summary>Completes when this instance leads; fails (cancelled) if the session is lost first.</summary>
    public async Task AwaitLeadershipAsync(CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Lost);
        await Latch.AwaitLeadershipAsync(both.Token);
        await WriteInfoAsync(create: false, cancellationToken);
    }

    /// <summary>
    /// The op that fences this instance's Keeper writes: it holds only while the latch node (this session's, ephemeral)
    /// exists, so a write in a multi with it cannot land after the session that won the election has ended.
    /// </summary>
    public Op Fence() => Op.Check(Latch.NodePath ?? throw new InvalidOperationException("not in the election"), -1);

    private void OnSessionState(object? sender, SessionState state)
    {
        switch (state)
        {
            case SessionState.Expired:
            case SessionState.AuthFailed:
                Lose($"the Keeper session {state}");
                break;
            case SessionState.Closed:
                Lose("the Keeper session was closed");
                break;
            case SessionState.Disconnected:
                Suspect(true);
                break;
            case SessionState.Connected:
                // Reconnected with the same session: the latch checks again and says whether we still lead.
                if (!_wasLeader || Latch.HasLeadership) Suspect(false);
                break;
        }
    }

    private void OnLeadership(object? sender, bool leader)
    {
        lock (_lock)
        {
            if (leader) _wasLeader = true;
        }
        // A leader that stops leading (disconnected, or its node gone) is suspect until it leads again; the standby's
        // own changes do not matter.
        if (_wasLeader) Suspect(!leader);
    }

    private void Suspect(bool suspect)
    {
        lock (_lock)
        {
            if (_disposed) return;
            _suspect.Change(suspect ? Client.SessionTimeout > TimeSpan.Zero ? Client.SessionTimeout : _options.SessionTimeout : Timeout.InfiniteTimeSpan,
                Timeout.InfiniteTimeSpan);
        }
    }

    private void Lose(string why)
    {
        if (Interlocked.Exchange(ref _losing, 1) != 0) return;
        LostReason = why;
        _options.Log?.Invoke($"instance {InstanceId}: {why}; it stops taking part (a leader stops processing)");
        // Off Keeper's event thread: cancelling runs the job's abort, which must not hold up the client.
        ThreadPool.QueueUserWorkItem(_ =>
        {
            try
            {
                _lost.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        });
    }

    public string? LostReason { get; private set; }

    /// <summary>Scale-out: this instance's data endpoint (host:port); null when it only runs the job as a leader.</summary>
    public string? Endpoint { get; private init; }

    /// <summary>This instance's info znode (ephemeral): what `quill streams list` shows.</summary>
    private async Task WriteInfoAsync(bool create, CancellationToken cancellationToken)
    {
        var info = new InstanceInfo
        {
            Instance = InstanceId,
            Host = Environment.MachineName,
            Pid = Environment.ProcessId,
            Started = _started,
            Role = Latch.HasLeadership ? "leader" : "standby",
            Latch = Latch.NodePath is { } node ? node[(node.LastIndexOf('/') + 1)..] : null,
            Endpoint = Endpoint,
        };
        byte[] data = JsonSerializer.SerializeToUtf8Bytes(info, InstanceInfo.Json);
        string path = $"{Paths.Instances}/{InstanceId}";
        if (create)
        {
            await KeeperRetry.IdempotentAsync(async () =>
            {
                try
                {
                    await Client.CreateAsync(path, data, mode: CreateMode.Ephemeral, cancellationToken: cancellationToken);
                }
                catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
                {
                    // Ours if a try before a connection loss made it; another live instance's otherwise.
                    if ((await Client.ExistsAsync(path, cancellationToken: cancellationToken))?.EphemeralOwner != Client.SessionId)
                        throw new InvalidOperationException($"an instance named '{InstanceId}' of this job is already running ({path} exists)");
                }
                return true;
            });
        }
        else
        {
            await KeeperRetry.IdempotentAsync(() => Client.SetDataAsync(path, data, cancellationToken: cancellationToken));
        }
    }

    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        Client.StateChanged -= OnSessionState;
        Latch.LeadershipChanged -= OnLeadership;
        _suspect.Dispose();
        try
        {
            await Latch.CloseAsync();
        }
        catch (Exception e) when (e is KeeperException or ObjectDisposedException or TimeoutException)
        {
        }
        await Client.CloseAsync();
        _lost.Dispose();
    }
}

/// <summary>What an instance's info znode holds (JSON).</summary>
public sealed class InstanceInfo
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Instance { get; set; } = "";
    public string Host { get; set; } = "";
    public int Pid { get; set; }
    public DateTimeOffset Started { get; set; }
    public string Role { get; set; } = "";
    /// <summary>The instance's latch node (its place in the election).</summary>
    public string? Latch { get; set; }

    /// <summary>Scale-out: where the instance takes records from the others (host:port); null: it takes no subtasks unless it leads.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Endpoint { get; set; }
}
