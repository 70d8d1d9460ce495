using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Config;
using Quill.Keeper.Metrics;
using Quill.Keeper.Sessions;
using Quill.Keeper.Storage;
using Quill.Keeper.Tree;
using Quill.Network;

namespace Quill.Keeper.Quorum;

/// <summary>
/// One member of an ensemble (ZooKeeper's QuorumPeer): owns the state on disk and in memory (log, snapshots, tree,
/// sessions, the acceptedEpoch and currentEpoch files) and loops: look for a leader, then lead or follow until that
/// term ends, then look again. Clients are served only inside a term, once it is in line with the leader.
/// </summary>
public sealed class QuorumPeer : IAsyncDisposable
{
    private readonly KeeperServer _server;
    private readonly QuorumConfig _quorum;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private ElectionTransport? _transport;
    private FastLeaderElection? _election;
    private Task? _loop;
    private long _acceptedEpoch, _currentEpoch;

    public QuorumPeer(KeeperServer server, KeeperOptions options, KeeperMetrics metrics, ILoggerFactory loggers, TimeProvider time)
    {
        _server = server;
        Options = options;
        _quorum = options.Quorum;
        Metrics = metrics;
        Loggers = loggers;
        Time = time;
        _log = loggers.CreateLogger("Keeper.Quorum");
        MyId = _quorum.MyId ?? throw new InvalidOperationException("an ensemble member needs its myid");
        Membership = _quorum.InitialMembership();
        Snapshots = new SnapshotStore(options.DataDir, loggers.CreateLogger("Keeper.Snapshots"));
    }

    public KeeperOptions Options { get; }
    public KeeperMetrics Metrics { get; }
    public ILoggerFactory Loggers { get; }
    public TimeProvider Time { get; }
    public long MyId { get; }
    /// <summary>The membership in force: zoo.cfg's (or its dynamic file's), then each committed reconfig's.</summary>
    public Membership Membership { get; private set; }
    public IReadOnlySet<long> Voters => Membership.Voters;
    /// <summary>False for an observer: it follows and serves clients, but has no vote.</summary>
    public bool IsVoter => Voters.Contains(MyId);
    public IReadOnlyDictionary<int, EnsembleMember> Members => Membership.Members;
    /// <summary>Set by a leader's term: ends it (a reconfig took this server's vote).</summary>
    public Action? EndTerm { get; set; }
    public SnapshotStore Snapshots { get; }
    public TxnLog TxnLog { get; private set; } = null!;
    public DataTree Tree { get; private set; } = null!;
    public SessionTracker Sessions { get; private set; } = null!;
    public PeerState State { get; private set; } = PeerState.Looking;
    public long LeaderId { get; private set; } = -1;
    /// <summary>While leading: the broadcast (for mntr's learner counts).</summary>
    public LeaderBroadcast? Broadcast { get; internal set; }
    public TimeSpan LastElectionTime => _election?.LastElectionTime ?? TimeSpan.Zero;

    /// <summary>The newest epoch this server agreed to follow or lead (persisted before it answers ACKEPOCH).</summary>
    public long AcceptedEpoch
    {
        get => _acceptedEpoch;
        set { WriteEpochFile("acceptedEpoch", value); _acceptedEpoch = value; }
    }

    /// <summary>The epoch whose history this server's log holds (persisted once NEWLEADER's sync is on disk).</summary>
    public long CurrentEpoch
    {
        get => _currentEpoch;
        set { WriteEpochFile("currentEpoch", value); _currentEpoch = value; }
    }

    public bool IsMember(long sid, out bool voting)
    {
        voting = Voters.Contains(sid);
        return Membership.Contains(sid);
    }

    public IPEndPoint QuorumEndpoint(EnsembleMember m) => new(NetworkListener.ResolveHost(m.Host), m.QuorumPort);

    public void Start(byte[] secret)
    {
        Load(secret);
        _acceptedEpoch = ReadEpochFile("acceptedEpoch") ?? Tree.LastZxid >> 32;
        _currentEpoch = ReadEpochFile("currentEpoch") ?? Tree.LastZxid >> 32;
        // This server's own line: from the membership, or zoo.cfg's when a reconfig removed it (it still listens).
        var me = Members.GetValueOrDefault((int)MyId) ?? _quorum.Members[(int)MyId];
        var electionPeers = Members.Values.ToDictionary(m => (long)m.Id, ElectionEndpoint);
        _transport = new ElectionTransport(MyId, electionPeers, (me.Host, me.ElectionPort), TimeSpan.FromMilliseconds(_quorum.CnxTimeoutMs), Loggers.CreateLogger("Keeper.Election"));
        var listenOn = _quorum.QuorumListenOnAllIPs ? new IPEndPoint(IPAddress.Any, me.ElectionPort) : ElectionEndpoint(me);
        _transport.Start(listenOn, _quorum.ElectionPortBindRetry);
        _election = new FastLeaderElection(MyId, () => Membership.Voters, _transport, Loggers.CreateLogger("Keeper.Election"));
        _log.LogInformation("Server {Id} of {Count} ({Voters} voting, config version 0x{Version:x}): current epoch {Epoch}, last zxid 0x{Zxid:x}",
            MyId, Members.Count, Voters.Count, Membership.Version, _currentEpoch, TxnLog.LastZxid);
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <param name="replaced">The state was cut back (TRUNC) or replaced (SNAP): the tree's membership is in force even
    /// when older than the one this server took from txns it had logged, which nobody committed.</param>
    private void Load(byte[] secret, bool replaced = false)
    {
        Sessions = new SessionTracker(Time, secret, MyId);
        TxnLog = new TxnLog(Options.EffectiveDataLogDir, new TxnLogOptions { ForceSync = Options.ForceSync }, Loggers.CreateLogger("Keeper.TxnLog"), Time);
        Tree = StateLoader.Load(Snapshots, TxnLog, Sessions, Options.ExtendedTypesEnabled, _log);
        if (!AdoptConfigOfTree(replaced)) Tree.SetQuorumConfig(System.Text.Encoding.UTF8.GetBytes(Membership.ToString()));
    }

    /// <summary>
    /// The tree holds a newer membership than the files (a reconfig was logged or came in a snapshot, and the files were
    /// not written yet, or this server learns it from the leader): it is activated. With <paramref name="evenIfOlder"/>
    /// an older one is too (a TRUNC or SNAP undid a reconfig this server had only logged), unless it is version 0,
    /// which in a snapshot may be the leader's own static membership. True when the tree's is in force.
    /// </summary>
    private bool AdoptConfigOfTree(bool evenIfOlder = false)
    {
        Membership inTree;
        try { inTree = Membership.Parse(Tree.QuorumConfigText()); }
        catch (ConfigException) { return false; }
        if (inTree.Members.Count == 0 || inTree.Version == Membership.Version) return false;
        if (inTree.Version < Membership.Version && !(evenIfOlder && inTree.Version > 0)) return false;
        Activate(inTree, evenIfOlder);
        return true;
    }

    private static IPEndPoint ElectionEndpoint(EnsembleMember m) => new(NetworkListener.ResolveHost(m.Host), m.ElectionPort);

    /// <summary>
    /// Owner thread: a reconfig was applied here. Activates it; a leader it took the vote from steps down (its
    /// followers' term ends with its connection, and they elect one of the new voters: ending theirs here would cut
    /// off the answer to the client that asked). A follower that lost its vote goes on following without one, as a
    /// ZooKeeper server removed by reconfig does until it is shut down.
    /// </summary>
    public void OnConfigCommitted(byte[] config, long zxid)
    {
        var next = Membership.Parse(System.Text.Encoding.UTF8.GetString(config), zxid);
        Activate(next);
        // A learner whose role changed (participant to observer or back) says so from now on; the leader counts its
        // acks by the membership, so nothing else changes for it within the term.
        if (State is PeerState.Following or PeerState.Observing) State = IsVoter ? PeerState.Following : PeerState.Observing;
        if (next.Voters.Contains(MyId)) return;
        _log.LogWarning("Reconfig 0x{Zxid:x}: this server has no vote any more", zxid);
        if (State == PeerState.Leading) EndTerm?.Invoke();
    }

    /// <summary>
    /// A leader at the start of its term (before it syncs anyone): with reconfigEnabled, the static membership (version
    /// 0) gets the version of this epoch's first zxid, as ZooKeeper's leader gives it, so /zookeeper/config and the
    /// dynamic config file say version=&lt;epoch&gt;00000000 before any reconfig. Learners take it from NEWLEADER.
    /// </summary>
    public void VersionStaticMembership(long epoch)
    {
        if (!Options.Quorum.ReconfigEnabled || Membership.Version != 0) return;
        var versioned = new Membership(Membership.Members, epoch << 32);
        Activate(versioned);
        Tree.SetQuorumConfig(System.Text.Encoding.UTF8.GetBytes(versioned.ToString()), versioned.Version);
    }

    /// <summary>
    /// Owner thread: the leader's membership as NEWLEADER carries it. A newer one is taken (the static membership's
    /// version a leader gave it, or a reconfig this server missed while it was away and that reached it in a snapshot
    /// or log it already applied). A membership that does not list this server (it is joining and not added yet) is
    /// kept in memory only, so that the zoo.cfg it was started with still starts it.
    /// </summary>
    public void AdoptLeaderMembership(string text)
    {
        Membership theirs;
        try { theirs = Membership.Parse(text); }
        catch (ConfigException e)
        {
            _log.LogWarning("The leader's membership in NEWLEADER cannot be read: {Reason}", e.Message);
            return;
        }
        if (theirs.Members.Count == 0 || theirs.Version <= Membership.Version) return;
        Activate(theirs, persist: theirs.Contains(MyId));
        Tree.SetQuorumConfig(System.Text.Encoding.UTF8.GetBytes(theirs.ToString()), theirs.Version);
    }

    /// <summary>What srvr says while following: observer for an observer, else follower (with or without a vote, as ZooKeeper).</summary>
    public string FollowerMode => Members.TryGetValue((int)MyId, out var me) && me.Role == PeerRole.Observer ? "observer" : "follower";

    /// <summary>
    /// Makes <paramref name="next"/> the membership (when newer): votes go to its servers, and it is written as
    /// ZooKeeper writes it, zoo.cfg.dynamic.&lt;version&gt; next to zoo.cfg with zoo.cfg's dynamicConfigFile pointing at
    /// it, so a restart comes back with it.
    /// </summary>
    private void Activate(Membership next, bool evenIfOlder = false, bool persist = true)
    {
        if (next.Version == Membership.Version || (next.Version < Membership.Version && !evenIfOlder)) return;
        Membership = next;
        foreach (var m in next.Members.Values) _transport?.SetPeer(m.Id, ElectionEndpoint(m));
        _log.LogInformation("Membership version 0x{Version:x}: {Servers}", next.Version, next.ServerLines().Replace('\n', ' '));
        if (!persist) return;
        try { WriteDynamicConfig(next); }
        catch (IOException e) { _log.LogError(e, "Writing the dynamic config of version 0x{Version:x} failed", next.Version); }
    }

    private void WriteDynamicConfig(Membership next)
    {
        if (_quorum.StaticConfigFile is not { } staticFile) return; // built without a zoo.cfg (embedded, tests)
        var dynamicFile = staticFile + ".dynamic." + next.Version.ToString("x", CultureInfo.InvariantCulture);
        // The first time the server lines move out of zoo.cfg, the file as the operator wrote it is kept, as
        // ZooKeeper keeps it (zoo.cfg.bak).
        var original = File.ReadAllLines(staticFile);
        if (!original.Any(l => l.TrimStart().StartsWith("dynamicConfigFile", StringComparison.Ordinal)))
            StorageFiles.WriteDurably(staticFile + ".bak", File.ReadAllBytes(staticFile));
        StorageFiles.WriteDurably(dynamicFile, System.Text.Encoding.UTF8.GetBytes(next.ServerLines() + "\n"));
        // zoo.cfg keeps its other keys; the server lines now live in the dynamic file only.
        var kept = original.Where(line =>
        {
            var t = line.TrimStart();
            return !t.StartsWith("server.", StringComparison.Ordinal) && !t.StartsWith("dynamicConfigFile", StringComparison.Ordinal);
        });
        var text = string.Join("\n", kept.Append("dynamicConfigFile=" + dynamicFile)) + "\n";
        StorageFiles.WriteDurably(staticFile, System.Text.Encoding.UTF8.GetBytes(text));
    }

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                State = PeerState.Looking;
                LeaderId = -1;
                Sessions.ResetAfterTerm();
                CatchUpWithLog();
                var vote = await LookForLeaderAsync(ct).ConfigureAwait(false);
                Metrics.RecordElection(LastElectionTime);
                LeaderId = vote.Leader;
                if (vote.Leader == MyId)
                {
                    State = PeerState.Leading;
                    await new Leader(this).RunAsync(ct).ConfigureAwait(false);
                }
                else
                {
                    // An observer runs the learner's side like a follower; the leader does not count its acks.
                    State = IsVoter ? PeerState.Following : PeerState.Observing;
                    await new Follower(this, vote.Leader).RunAsync(ct).ConfigureAwait(false);
                }
                _election!.SetState(PeerState.Looking, default);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e)
            {
                _log.LogError(e, "Server {Id}: the term ended with an error; looking for a leader again", MyId);
                try { await Task.Delay(500, ct).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>
    /// An election; with readonlymode.enabled, one that has not ended after ZooKeeper's wait (the larger of 2 s and a
    /// tick) has this server serve reads in read-only mode until it ends.
    /// </summary>
    private async Task<Vote> LookForLeaderAsync(CancellationToken ct)
    {
        var looking = _election!.LookForLeaderAsync(TxnLog.LastZxid, _currentEpoch, ct);
        if (!_quorum.ReadOnlyModeEnabled) return await looking.ConfigureAwait(false);
        var wait = Task.Delay(TimeSpan.FromMilliseconds(Math.Max(2000, Options.TickTime)), Time, ct);
        if (await Task.WhenAny(looking, wait).ConfigureAwait(false) == looking) return await looking.ConfigureAwait(false);
        var readOnly = RoleProcessor.ForReadOnly(this);
        StartServing(readOnly, "read-only");
        _log.LogInformation("Server {Id}: no leader yet; serving reads in read-only mode", MyId);
        try
        {
            return await looking.ConfigureAwait(false);
        }
        finally
        {
            // Its clients go (they find a read-write server, or this one once it serves a term) before the term uses the tree.
            StopServing();
            await readOnly.DisposeAsync().ConfigureAwait(false);
            _log.LogInformation("Server {Id}: read-only mode ends", MyId);
        }
    }

    /// <summary>
    /// Between terms the tree takes in every txn this server logged (as a restart would): the vote names the last
    /// logged zxid, and whatever the next leader says about txns nobody committed (TRUNC) is undone from disk.
    /// </summary>
    private void CatchUpWithLog()
    {
        int applied = 0;
        foreach (var entry in TxnLog.ReadFrom(Tree.LastZxid))
        {
            StateLoader.Apply(Tree, Sessions, entry);
            applied++;
        }
        if (applied > 0)
        {
            _log.LogInformation("Applied {Count} logged txns the last term had not committed yet", applied);
            AdoptConfigOfTree(); // a reconfig among them is in force from now on
        }
    }

    /// <summary>TRUNC: logged txns above <paramref name="zxid"/> were never committed; drop them and rebuild the state.</summary>
    public void TruncateAfter(long zxid)
    {
        var secret = Sessions.Secret;
        TxnLog.Dispose();
        TxnLogTruncation.TruncateAfter(Options.EffectiveDataLogDir, zxid, _log);
        DeleteSnapshotsAfter(zxid); // a snapshot of txns nobody committed (from a SNAP never finished) must not load
        Load(secret, replaced: true);
        if (Tree.LastZxid != zxid) throw new InvalidDataException($"after truncating to 0x{zxid:x} the state ends at 0x{Tree.LastZxid:x}");
    }

    /// <summary>SNAP: the leader's state replaces this server's; logged txns after it (a history of their own) go.</summary>
    public void InstallSnapshot(long zxid, byte[] body)
    {
        var secret = Sessions.Secret;
        TxnLog.Dispose();
        // The log is cut first: a crash before the snapshot is written leaves this server's own (older) history,
        // never the leader's state with this server's other txns on top.
        TxnLogTruncation.TruncateAfter(Options.EffectiveDataLogDir, zxid, _log);
        DeleteSnapshotsAfter(zxid);
        Snapshots.Write(zxid, stream => stream.Write(body));
        Load(secret, replaced: true);
        _log.LogInformation("Installed the leader's snapshot at zxid 0x{Zxid:x}: {Nodes} znodes", zxid, Tree.NodeCount);
    }

    private void DeleteSnapshotsAfter(long zxid)
    {
        foreach (var (snapZxid, path) in StorageFiles.List(Options.DataDir, StorageFiles.SnapshotPrefix))
            if (snapZxid > zxid) File.Delete(path);
    }

    /// <summary>The leader's recent history from its log, for DIFFs: every txn since the newest snapshot, bounded.</summary>
    public CommittedWindow LoadCommittedWindow()
    {
        var snapshots = StorageFiles.List(Options.DataDir, StorageFiles.SnapshotPrefix);
        long start = snapshots.Count > 0 ? Math.Min(snapshots[^1].Zxid, Tree.LastZxid) : 0;
        var window = new CommittedWindow(start, _quorum.CommitLogCount);
        foreach (var e in TxnLog.ReadFrom(start))
            window.Add(e.Zxid, Proposal.Encode(e.SessionId, e.Cxid, e.Time, e.Type, e.Body));
        return window;
    }

    public void StartServing(RoleProcessor role, string mode) => _server.Serve(role.Processor, mode);

    public void StopServing() => _server.StopServing();

    public void SaveSecret(byte[] secret) => KeeperServer.WriteSecret(Options.DataDir, secret);

    private string EpochPath(string name) => Path.Combine(Options.DataDir, name);

    private long? ReadEpochFile(string name)
    {
        var path = EpochPath(name);
        if (!File.Exists(path)) return null;
        var text = File.ReadAllText(path).Trim();
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long epoch)) return epoch;
        throw new InvalidDataException($"{path} does not hold an epoch: '{text}'");
    }

    /// <summary>Written as ZooKeeper writes it (decimal text), durably (see <see cref="StorageFiles.WriteDurably"/>).</summary>
    private void WriteEpochFile(string name, long epoch) =>
        StorageFiles.WriteDurably(EpochPath(name), System.Text.Encoding.ASCII.GetBytes(epoch.ToString(CultureInfo.InvariantCulture)));

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null) try { await _loop.WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false); } catch (Exception) { }
        if (_transport is not null) await _transport.DisposeAsync().ConfigureAwait(false);
        TxnLog?.Dispose();
    }
}
