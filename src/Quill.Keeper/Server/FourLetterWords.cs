using System.Globalization;
using System.Text;
using Quill.Keeper.Pipeline;
using Quill.Keeper.Quorum;

namespace Quill.Keeper.Server;

/// <summary>
/// ZooKeeper's four-letter words: a fresh connection whose first four bytes spell one gets a text answer and is
/// closed. Only whitelisted words run (4lw.commands.whitelist; ZooKeeper allows srvr alone by default).
/// Every answer is computed on the request processor's thread, so it sees a consistent state.
/// </summary>
public sealed class FourLetterWords(KeeperServer server)
{
    public const string Version = "3.8.0-quill-keeper-0.1";
    private static readonly string[] Words = ["ruok", "srvr", "stat", "mntr", "conf", "cons", "envi", "wchs", "wchc", "wchp", "dump", "isro", "srst", "crst", "dirs"];

    public static bool IsFourLetterWord(ReadOnlySpan<byte> prefix, out string word)
    {
        word = Encoding.ASCII.GetString(prefix);
        return Array.IndexOf(Words, word) >= 0;
    }

    public Task<string> RunAsync(string word, ClientConnection asker)
    {
        var whitelist = server.Options.FourLetterWordWhitelist;
        if (!whitelist.Contains("*") && !whitelist.Contains(word))
            return Task.FromResult($"{word} is not executed because it is not in the whitelist.\n");
        if (word == "ruok") return Task.FromResult("imok");
        // An ensemble member between terms (looking for a leader, syncing) has no state to report, as in ZooKeeper.
        if (server.Processor is not { } processor) return Task.FromResult(NotServing);
        return processor.QueryAsync(() => Answer(word, asker));
    }

    public const string NotServing = "This ZooKeeper instance is not currently serving requests\n";

    private string Answer(string word, ClientConnection asker)
    {
        var p = server.Processor!;
        var m = p.Metrics;
        var sb = new StringBuilder();
        switch (word)
        {
            case "srvr":
            case "stat":
                sb.Append("Zookeeper version: ").Append(Version).Append(", built on Quill\n");
                if (word == "stat")
                {
                    sb.Append("Clients:\n");
                    foreach (var c in server.Connections) sb.Append(' ').Append(Describe(c, brief: true)).Append('\n');
                    sb.Append('\n');
                }
                sb.Append(Inv($"Latency min/avg/max: {m.MinLatency}/{m.AvgLatency:0.0###}/{m.LatencyMaxMs}\n"));
                sb.Append(Inv($"Received: {m.PacketsReceived}\nSent: {m.PacketsSent}\nConnections: {server.Connections.Count}\n"));
                sb.Append(Inv($"Outstanding: {p.Outstanding}\nZxid: 0x{p.Tree.LastZxid:x}\nMode: {server.Mode}\nNode count: {p.Tree.NodeCount}\n"));
                break;
            case "mntr":
                foreach (var (key, value) in MetricValues()) sb.Append("zk_").Append(key).Append('\t').Append(value).Append('\n');
                break;
            case "conf":
                var o = server.Options;
                sb.Append(Inv($"clientPort={server.Endpoint.Port}\nsecureClientPort=-1\ndataDir={Path.GetFullPath(o.DataDir)}\n"));
                sb.Append(Inv($"dataDirSize={DirSize(o.DataDir)}\ndataLogDir={Path.GetFullPath(o.EffectiveDataLogDir)}\ndataLogSize={DirSize(o.EffectiveDataLogDir)}\n"));
                sb.Append(Inv($"tickTime={o.TickTime}\nmaxClientCnxns={o.MaxClientCnxns}\nminSessionTimeout={o.EffectiveMinSessionTimeout}\n"));
                sb.Append(Inv($"maxSessionTimeout={o.EffectiveMaxSessionTimeout}\nclientPortListenBacklog=-1\nserverId=0\n"));
                break;
            case "cons":
                foreach (var c in server.Connections) sb.Append(' ').Append(Describe(c, brief: false)).Append('\n');
                sb.Append('\n');
                break;
            case "envi":
                sb.Append("Environment:\n");
                sb.Append("zookeeper.version=").Append(Version).Append('\n');
                sb.Append("host.name=").Append(Environment.MachineName).Append('\n');
                sb.Append("dotnet.version=").Append(Environment.Version).Append('\n');
                sb.Append("os.name=").Append(Environment.OSVersion.Platform).Append('\n');
                sb.Append("os.version=").Append(Environment.OSVersion.VersionString).Append('\n');
                sb.Append("user.dir=").Append(Environment.CurrentDirectory).Append('\n');
                sb.Append(Inv($"os.memory.used={GC.GetTotalMemory(false) / (1 << 20)}MB\n"));
                break;
            // wchs, wchc and wchp report data watches only, as ZooKeeper's do (its DataTree answers them from
            // dataWatches); child watches are counted by mntr's watch_count alone.
            case "wchs":
                var watches = p.Tree.Watches;
                var watchers = watches.DataWatches().Select(x => x.Watcher).Distinct().Count();
                var paths = watches.DataWatches().Select(x => x.Path).Distinct().Count();
                sb.Append(Inv($"{watchers} connections watching {paths} paths\nTotal watches:{watches.DataWatchCount}\n"));
                break;
            case "wchc":
                foreach (var g in p.Tree.Watches.DataWatches().GroupBy(x => x.Watcher))
                {
                    var session = (g.Key as ClientConnection)?.Session?.Id ?? 0;
                    sb.Append(Inv($"0x{session:x}\n"));
                    foreach (var path in g.Select(x => x.Path).Distinct()) sb.Append('\t').Append(path).Append('\n');
                }
                sb.Append('\n'); // ZooKeeper prints the report with println
                break;
            case "wchp":
                foreach (var g in p.Tree.Watches.DataWatches().GroupBy(x => x.Path))
                {
                    sb.Append(g.Key).Append('\n');
                    foreach (var w in g.Select(x => x.Watcher).Distinct())
                        sb.Append(Inv($"\t0x{(w as ClientConnection)?.Session?.Id ?? 0:x}\n"));
                }
                sb.Append('\n');
                break;
            case "dump":
                sb.Append("SessionTracker dump:\n");
                sb.Append(Inv($"Session Sets ({p.Sessions.Count}):\n"));
                foreach (var s in p.Sessions.All) sb.Append(Inv($"0x{s.Id:x}\t{s.TimeoutMs}ms\n"));
                sb.Append("ephemeral nodes dump:\n");
                sb.Append(Inv($"Sessions with Ephemerals ({p.Tree.EphemeralsBySession.Count}):\n"));
                foreach (var (id, set) in p.Tree.EphemeralsBySession)
                {
                    sb.Append(Inv($"0x{id:x}:\n"));
                    foreach (var path in set) sb.Append('\t').Append(path).Append('\n');
                }
                break;
            case "isro":
                sb.Append(p.Role == ServerRole.ReadOnly ? "ro" : "rw");
                break;
            case "srst":
                m.Reset();
                sb.Append("Server stats reset.\n");
                break;
            case "crst":
                foreach (var c in server.Connections) { c.PacketsReceived = 0; c.PacketsSent = 0; }
                sb.Append("Connection stats reset.\n");
                break;
            case "dirs":
                sb.Append(Inv($"datadir_size: {DirSize(server.Options.DataDir)}\nlogdir_size: {DirSize(server.Options.EffectiveDataLogDir)}\n"));
                break;
        }
        _ = asker;
        return sb.ToString();
    }

    /// <summary>
    /// The mntr keys (without the zk_ prefix); the Prometheus endpoint reports the same numbers. Called on the
    /// processor's thread; an ensemble member between terms reports the same keys, its state numbers as 0.
    /// </summary>
    public IEnumerable<(string Key, string Value)> MetricValues()
    {
        var p = server.Processor;
        var m = server.Counters;
        var tree = p?.Tree;
        yield return ("version", Version + ", built on Quill");
        yield return ("server_state", p is null ? "looking" : server.Mode);
        if (server.Peer is { } peer)
        {
            var broadcast = p?.Role == ServerRole.Leader ? peer.Broadcast : null;
            var learners = broadcast?.Learners ?? [];
            yield return ("learners", Inv($"{learners.Count}"));
            yield return ("synced_followers", Inv($"{learners.Count(l => l.Voting && l.CountsAcks)}"));
            yield return ("synced_observers", Inv($"{learners.Count(l => !l.Voting && l.CountsAcks)}"));
            yield return ("pending_syncs", Inv($"{learners.Count(l => !l.CountsAcks)}"));
            yield return ("proposal_count", Inv($"{broadcast?.ProposalCount ?? 0}"));
            yield return ("commit_count", Inv($"{broadcast?.CommitCount ?? 0}"));
            yield return ("election_count", Inv($"{Volatile.Read(ref m.Elections)}"));
            yield return ("last_election_time_ms", Inv($"{Volatile.Read(ref m.LastElectionMs)}"));
            yield return ("current_epoch", Inv($"{peer.CurrentEpoch}"));
        }
        yield return ("avg_latency", Inv($"{m.AvgLatency:0.####}"));
        yield return ("max_latency", Inv($"{m.LatencyMaxMs}"));
        yield return ("min_latency", Inv($"{m.MinLatency}"));
        yield return ("packets_received", Inv($"{m.PacketsReceived}"));
        yield return ("packets_sent", Inv($"{m.PacketsSent}"));
        yield return ("num_alive_connections", Inv($"{server.Connections.Count}"));
        yield return ("outstanding_requests", Inv($"{p?.Outstanding ?? 0}"));
        yield return ("znode_count", Inv($"{tree?.NodeCount ?? 0}"));
        yield return ("watch_count", Inv($"{tree?.Watches.TotalCount ?? 0}"));
        yield return ("ephemerals_count", Inv($"{tree?.EphemeralsBySession.Values.Sum(s => s.Count) ?? 0}"));
        yield return ("approximate_data_size", Inv($"{tree?.ApproximateDataSize() ?? 0}"));
        yield return ("global_sessions", Inv($"{p?.Sessions.Count ?? 0}"));
        yield return ("last_zxid", Inv($"{tree?.LastZxid ?? 0}"));
        yield return ("fsync_count", Inv($"{server.TxnLog.FsyncCount}"));
        yield return ("fsync_time_ms_total", Inv($"{server.TxnLog.TotalFsyncMillis:0.###}"));
        yield return ("open_file_descriptor_count", Inv($"{OpenFileDescriptors()}"));
    }

    private static long OpenFileDescriptors()
    {
        try { return Directory.GetFiles("/proc/self/fd").Length; } catch (IOException) { return -1; } catch (UnauthorizedAccessException) { return -1; }
    }

    private static string Describe(ClientConnection c, bool brief)
    {
        var basic = Inv($"/{c.RemoteAddress}[1](queued=0,recved={c.PacketsReceived},sent={c.PacketsSent}");
        if (brief) return basic + ")";
        return basic + Inv($",sid=0x{c.Session?.Id ?? 0:x},lop=NA,est={c.Established.ToUnixTimeMilliseconds()},to={c.Session?.TimeoutMs ?? 0})");
    }

    private static long DirSize(string dir) =>
        Directory.Exists(dir) ? new DirectoryInfo(dir).EnumerateFiles().Sum(f => f.Length) : 0;

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
