using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Quill.Testing;

/// <summary>
/// A Keeper ensemble of separate processes on 127.0.0.1: one temp directory with a data dir, myid and zoo.cfg per
/// member (server.N lines with free quorum, election and client ports), each started as
/// <c>dotnet quill.dll keeper start --config</c>. Members can be killed (SIGKILL), paused (SIGSTOP/SIGCONT) and started
/// again on the same ports and data. Everything started is killed on dispose.
/// </summary>
public sealed class KeeperEnsemble : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Member[] _members;

    private KeeperEnsemble(int count, int observers, int tickTime, IReadOnlyDictionary<string, string>? extraConfig)
    {
        Directory = Path.Combine(Path.GetTempPath(), "quill-ensemble-" + Guid.NewGuid().ToString("N")[..12]);
        var ports = DistinctFreePorts(3 * count);
        _members = Enumerable.Range(1, count)
            .Select(id => new Member(id, Path.Combine(Directory, $"s{id}"), ports[3 * (id - 1)], ports[3 * (id - 1) + 1], ports[3 * (id - 1) + 2]))
            .ToArray();
        var servers = new StringBuilder();
        foreach (var m in _members)
            servers.AppendLine($"server.{m.Id}=127.0.0.1:{m.QuorumPort}:{m.ElectionPort}{(m.Id > count - observers ? ":observer" : "")};127.0.0.1:{m.ClientPort}");
        foreach (var m in _members)
        {
            System.IO.Directory.CreateDirectory(m.DataDir);
            File.WriteAllText(Path.Combine(m.DataDir, "myid"), m.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var config = new StringBuilder()
                .AppendLine($"tickTime={tickTime}")
                .AppendLine("initLimit=10")
                .AppendLine("syncLimit=5")
                .AppendLine($"dataDir={m.DataDir}")
                .AppendLine("4lw.commands.whitelist=*")
                .AppendLine(m.Id > count - observers ? "peerType=observer" : "peerType=participant")
                .Append(servers);
            foreach (var (key, value) in extraConfig ?? new Dictionary<string, string>()) config.AppendLine($"{key}={value}");
            File.WriteAllText(m.ConfigPath, config.ToString());
        }
    }

    public string Directory { get; }
    public IReadOnlyList<Member> Members => _members;
    /// <summary>Every member, as a multi-host connect string.</summary>
    public string ConnectString => string.Join(",", _members.Select(m => m.ConnectString));

    /// <summary>
    /// Starts <paramref name="count"/> members (the last <paramref name="observers"/> of them observers) and waits until
    /// one leads and the others follow or observe it.
    /// </summary>
    public static async Task<KeeperEnsemble> StartAsync(int count = 3, int tickTime = 500, IReadOnlyDictionary<string, string>? extraConfig = null, int observers = 0)
    {
        var ensemble = new KeeperEnsemble(count, observers, tickTime, extraConfig);
        try
        {
            foreach (var m in ensemble._members) m.Start();
            await ensemble.WaitForRolesAsync(count);
            return ensemble;
        }
        catch
        {
            await ensemble.DisposeAsync();
            throw;
        }
    }

    public Member this[int id] => _members[id - 1];

    /// <summary>Ports the OS hands out while all are held open, so no two are the same.</summary>
    private static int[] DistinctFreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            foreach (var l in listeners) l.Start();
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var l in listeners) l.Stop();
        }
    }

    /// <summary>Waits until <paramref name="serving"/> running members serve: exactly one leader, the rest following or observing it.</summary>
    public async Task<Member> WaitForRolesAsync(int serving, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? StartTimeout);
        string last = "";
        while (true)
        {
            var modes = new List<(Member Member, string Mode)>();
            foreach (var m in _members.Where(m => m.IsRunning))
                modes.Add((m, await m.ModeAsync()));
            last = string.Join(", ", modes.Select(x => $"server.{x.Member.Id}={x.Mode}"));
            var leaders = modes.Where(x => x.Mode == "leader").ToList();
            if (leaders.Count == 1 && modes.Count(x => x.Mode is "follower" or "observer") == serving - 1) return leaders[0].Member;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no leader with {serving - 1} followers within the deadline: {last}\n{Diagnostics()}");
            await Task.Delay(100);
        }
    }

    public async Task<Member> LeaderAsync() => await WaitForRolesAsync(_members.Count(m => m.IsRunning));

    public string Diagnostics() => string.Join("\n", _members.Select(m => m.Diagnostics()));

    public async ValueTask DisposeAsync()
    {
        foreach (var m in _members) m.Kill();
        await Task.Yield();
        try
        {
            if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open: the temp dir is left behind, which is harmless.
        }
    }

    /// <summary>One member process.</summary>
    public sealed class Member(int id, string directory, int clientPort, int quorumPort, int electionPort)
    {
        private readonly StringBuilder _output = new();
        private Process? _process;

        public int Id { get; } = id;
        public string DataDir { get; } = directory;
        public string ConfigPath => Path.Combine(DataDir, "zoo.cfg");
        public int ClientPort { get; } = clientPort;
        public int QuorumPort { get; } = quorumPort;
        public int ElectionPort { get; } = electionPort;
        public string ConnectString => $"127.0.0.1:{ClientPort}";
        public bool IsRunning => _process is { HasExited: false };
        public int Pid => _process?.Id ?? 0;

        public string Output
        {
            get { lock (_output) return _output.ToString(); }
        }

        public void Start()
        {
            if (IsRunning) throw new InvalidOperationException($"server.{Id} is running");
            string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
            if (!File.Exists(KeeperProcess.QuillDll)) throw new InvalidOperationException($"{KeeperProcess.QuillDll} not found: reference src/Quill");
            var start = new ProcessStartInfo(dotnet) { WorkingDirectory = DataDir, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { KeeperProcess.QuillDll, "keeper", "start", "--config", ConfigPath }) start.ArgumentList.Add(arg);
            start.Environment["DOTNET_NOLOGO"] = "1";
            var process = new Process { StartInfo = start };
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
            lock (_output) _output.AppendLine($"--- started pid {process.Id} ---");
        }

        /// <summary>SIGKILL, and wait until the process is gone.</summary>
        public void Kill()
        {
            ProcessKiller.KillAndWait(ref _process);
        }

        public void Pause() => Signal(Pid, "STOP");
        public void Resume() => Signal(Pid, "CONT");

        private static void Signal(int pid, string signal)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {pid}") { UseShellExecute = false })!;
            kill.WaitForExit();
        }

        /// <summary>leader, follower, or "down" / "not serving".</summary>
        public async Task<string> ModeAsync()
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                var answer = await FourLetterWordAsync("srvr", timeout.Token);
                var line = answer.Split('\n').FirstOrDefault(l => l.StartsWith("Mode: ", StringComparison.Ordinal));
                return line is null ? "not serving" : line["Mode: ".Length..].Trim();
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                return "down";
            }
        }

        public Task<string> FourLetterWordAsync(string word, CancellationToken ct = default) => FourLetterWord.AskAsync(ClientPort, word, ct);

        public string Diagnostics()
        {
            var text = Output;
            return $"--- server.{Id} (client {ClientPort}, quorum {QuorumPort}, election {ElectionPort}) ---\n{(text.Length > 12_000 ? text[^12_000..] : text)}";
        }

        private void Append(string? line)
        {
            if (line is null) return;
            lock (_output)
            {
                if (_output.Length > 512 * 1024) _output.Remove(0, 128 * 1024);
                _output.AppendLine(line);
            }
        }
    }
}
