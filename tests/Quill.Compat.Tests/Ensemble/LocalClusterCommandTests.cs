using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Quill.Testing;

namespace Quill.Compat.Tests.Ensemble;

/// <summary>
/// The local development clusters: `quill keeper start --ensemble 3` and `quill start --brokers 3 --keepers 3`. One
/// command starts every member process, prints an address list that real clients use, and SIGTERM stops them all.
/// </summary>
public sealed class LocalClusterCommandTests
{
    [Fact]
    public async Task keeper_start_ensemble_3_prints_a_connect_string_that_kazoo_writes_and_reads_through_and_sigterm_stops_every_member()
    {
        int basePort = FindBasePort(keeperServers: 3, brokers: 0);
        await using var command = LocalCommand.Start("Connect string: ",
            "keeper", "start", "--ensemble", "3", "--client-port", Inv($"{basePort}"));
        var hosts = await command.AddressesAsync(TimeSpan.FromSeconds(60));
        Assert.Equal($"127.0.0.1:{basePort},127.0.0.1:{basePort + 1},127.0.0.1:{basePort + 2}", hosts);

        // The members elect a leader on their own; the replicate step writes through the first and reads through each.
        var run = await RetryAsync(() => ToolRunner.RunKazooScriptFileAsync(EnsembleClient.ScriptPath, "replicate", hosts), TimeSpan.FromSeconds(90));
        Assert.True(run.Succeeded, $"{run}\n{command.Output}");
        foreach (var h in hosts.Split(','))
            Assert.Contains($"{h} multi version=51 children=m,seq-0000000000", run.StdOut);

        await command.StopAndAssertAllGoneAsync(Enumerable.Range(basePort, 3));
    }

    [Fact]
    public async Task start_brokers_3_keepers_3_prints_a_bootstrap_list_that_kcat_produces_and_consumes_through_and_sigterm_stops_every_process()
    {
        if (!File.Exists("/usr/bin/kcat")) Assert.Fail("kcat is not installed: apt-get install kcat");
        int keeperPort = FindBasePort(keeperServers: 3, brokers: 0);
        int kafkaPort = FindBasePort(keeperServers: 0, brokers: 3);
        await using var command = LocalCommand.Start("Bootstrap servers: ",
            "start", "--brokers", "3", "--keepers", "3", "--kafka-port", Inv($"{kafkaPort}"), "--keeper-port", Inv($"{keeperPort}"));
        var bootstrap = await command.AddressesAsync(TimeSpan.FromSeconds(180));
        Assert.Equal($"127.0.0.1:{kafkaPort},127.0.0.1:{kafkaPort + 1},127.0.0.1:{kafkaPort + 2}", bootstrap);
        Assert.Contains($"Keeper connect string: 127.0.0.1:{keeperPort},127.0.0.1:{keeperPort + 1},127.0.0.1:{keeperPort + 2}", command.Output);

        // Every broker names all three, and one controller.
        var metadata = await RetryAsync(async () =>
        {
            var r = await ToolRunner.RunAsync("kcat", ["-b", bootstrap, "-L"]);
            return r with { ExitCode = r.ExitCode == 0 && r.StdOut.Contains(" 3 brokers:") ? 0 : 1 };
        }, TimeSpan.FromSeconds(60));
        Assert.True(metadata.Succeeded, $"{metadata}\n{command.Output}");
        Assert.Single(metadata.StdOut.Split('\n'), l => l.Contains("(controller)"));

        // Produced through the list (the topic is auto-created, its leader anywhere), read back through the third broker's address.
        string topic = "local-cluster-" + Guid.NewGuid().ToString("N")[..8];
        var produce = await RetryAsync(() => ToolRunner.RunAsync("kcat", ["-b", bootstrap, "-P", "-t", topic, "-p", "0"], standardInput: "one\ntwo\nthree\n"),
            TimeSpan.FromSeconds(60));
        Assert.True(produce.Succeeded, $"{produce}\n{command.Output}");
        var consume = await ToolRunner.RunAsync("kcat", ["-b", $"127.0.0.1:{kafkaPort + 2}", "-C", "-t", topic, "-p", "0", "-o", "beginning", "-c", "3", "-q"],
            timeout: TimeSpan.FromSeconds(60));
        Assert.True(consume.Succeeded, $"{consume}\n{command.Output}");
        Assert.Equal(["one", "two", "three"], consume.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        await command.StopAndAssertAllGoneAsync(Enumerable.Range(kafkaPort, 3).Concat(Enumerable.Range(keeperPort, 3)));
    }

    [Fact]
    public async Task start_brokers_3_keeps_the_others_serving_when_one_is_killed_and_topics_reports_its_partitions_as_kafka_topics_does()
    {
        if (!File.Exists("/usr/bin/kcat")) Assert.Fail("kcat is not installed: apt-get install kcat");
        int keeperPort = FindBasePort(keeperServers: 1, brokers: 0);
        int kafkaPort = FindBasePort(keeperServers: 0, brokers: 3);
        await using var command = LocalCommand.Start("Bootstrap servers: ",
            "start", "--brokers", "3", "--keepers", "1", "--kafka-port", Inv($"{kafkaPort}"), "--keeper-port", Inv($"{keeperPort}"));
        var bootstrap = await command.AddressesAsync(TimeSpan.FromSeconds(180));
        var metadata = await RetryAsync(async () =>
        {
            var r = await ToolRunner.RunAsync("kcat", ["-b", bootstrap, "-L"]);
            return r with { ExitCode = r.ExitCode == 0 && r.StdOut.Contains(" 3 brokers:") ? 0 : 1 };
        }, TimeSpan.FromSeconds(60));
        Assert.True(metadata.Succeeded, $"{metadata}\n{command.Output}");

        // Placed by hand so the test knows which broker holds what: "replicated" on all three, led by 0; "solo" only on 2.
        var created = await Quill(bootstrap, "--create", "--topic", "replicated", "--replica-assignment", "0:1:2", "--config", "min.insync.replicas=2");
        Assert.True(created.Succeeded, created.ToString());
        created = await Quill(bootstrap, "--create", "--topic", "solo", "--replica-assignment", "2");
        Assert.True(created.Succeeded, created.ToString());
        var healthy = await RetryAsync(async () =>
        {
            var r = await Quill(bootstrap, "--describe", "--topic", "replicated");
            return r with { ExitCode = r.Succeeded && r.StdOut.Contains("Isr: 0,1,2") ? 0 : 1 };
        }, TimeSpan.FromSeconds(60));
        Assert.True(healthy.Succeeded, healthy.ToString());
        Assert.Equal("", (await Quill(bootstrap, "--describe", "--under-replicated-partitions")).StdOut.Trim());

        int pid = command.MemberPid("broker 2");
        using (var kill = Process.Start("kill", $"-KILL {pid}")) await kill.WaitForExitAsync();
        await command.WaitForOutputAsync($"broker 2 (pid {pid}) exited", TimeSpan.FromSeconds(30));
        string survivors = $"127.0.0.1:{kafkaPort},127.0.0.1:{kafkaPort + 1}";

        // Once broker 2's session has ended, "solo" has no live leader; once leader 0 has dropped 2 from the ISR
        // (replica.lag.time.max.ms, 30 s by default), "replicated" is under-replicated and at its min.insync.replicas.
        var unavailable = await RetryAsync(async () =>
        {
            var r = await Quill(survivors, "--describe", "--unavailable-partitions");
            return r with { ExitCode = r.Succeeded && r.StdOut.Contains("Topic: solo\tPartition: 0") ? 0 : 1 };
        }, TimeSpan.FromSeconds(90));
        Assert.True(unavailable.Succeeded, $"{unavailable}\n{command.Output}");
        Assert.DoesNotContain("Topic: replicated", unavailable.StdOut);
        var underReplicated = await RetryAsync(async () =>
        {
            var r = await Quill(survivors, "--describe", "--under-replicated-partitions");
            return r with { ExitCode = r.Succeeded && r.StdOut.Contains("Topic: replicated\tPartition: 0") ? 0 : 1 };
        }, TimeSpan.FromSeconds(120));
        Assert.True(underReplicated.Succeeded, $"{underReplicated}\n{command.Output}");
        Assert.Contains("Isr: 0,1", underReplicated.StdOut);
        Assert.Contains("Topic: replicated\tPartition: 0", (await Quill(survivors, "--describe", "--at-min-isr-partitions")).StdOut);
        Assert.DoesNotContain("Topic: replicated", (await Quill(survivors, "--describe", "--under-min-isr-partitions")).StdOut);

        // The two left still take acks=all writes (ISR 2 = min.insync.replicas 2), and the command still runs.
        var produce = await RetryAsync(() => ToolRunner.RunAsync("kcat", ["-b", survivors, "-P", "-t", "replicated", "-p", "0", "-X", "acks=all"],
            standardInput: "after\n"), TimeSpan.FromSeconds(60));
        Assert.True(produce.Succeeded, $"{produce}\n{command.Output}");
        Assert.False(command.HasExited, command.Output);

        await command.StopAndAssertAllGoneAsync(Enumerable.Range(kafkaPort, 3).Append(keeperPort));
    }

    [Fact]
    public async Task start_brokers_2_with_a_replication_port_gives_clients_and_brokers_their_own_listeners()
    {
        if (!File.Exists("/usr/bin/kcat")) Assert.Fail("kcat is not installed: apt-get install kcat");
        int keeperPort = FindBasePort(keeperServers: 1, brokers: 0);
        int kafkaPort = FindBasePort(keeperServers: 0, brokers: 2);
        int replicationPort;
        do replicationPort = FindBasePort(keeperServers: 0, brokers: 2);
        while (Math.Abs(replicationPort - kafkaPort) < 2 || Math.Abs(replicationPort - keeperPort) < 2);
        await using var command = LocalCommand.Start("Bootstrap servers: ", "start", "--brokers", "2", "--keepers", "1",
            "--kafka-port", Inv($"{kafkaPort}"), "--keeper-port", Inv($"{keeperPort}"), "--replication-port", Inv($"{replicationPort}"));
        var bootstrap = await command.AddressesAsync(TimeSpan.FromSeconds(180));
        Assert.Contains($"Replication listener: 127.0.0.1:{replicationPort},127.0.0.1:{replicationPort + 1}", command.Output);

        // Each listener names the brokers by its own addresses.
        foreach (var (server, port) in new[] { (bootstrap, kafkaPort), ($"127.0.0.1:{replicationPort + 1}", replicationPort) })
        {
            var metadata = await RetryAsync(async () =>
            {
                var r = await ToolRunner.RunAsync("kcat", ["-b", server, "-L"]);
                return r with { ExitCode = r.ExitCode == 0 && r.StdOut.Contains(" 2 brokers:") ? 0 : 1 };
            }, TimeSpan.FromSeconds(60));
            Assert.True(metadata.Succeeded, $"{metadata}\n{command.Output}");
            Assert.Contains($"broker 0 at 127.0.0.1:{port}", metadata.StdOut);
            Assert.Contains($"broker 1 at 127.0.0.1:{port + 1}", metadata.StdOut);
        }

        await command.StopAndAssertAllGoneAsync(Enumerable.Range(kafkaPort, 2).Concat(Enumerable.Range(replicationPort, 2)).Append(keeperPort));
    }

    /// <summary>`quill topics ...` against <paramref name="bootstrap"/>.</summary>
    private static Task<ToolResult> Quill(string bootstrap, params string[] arguments)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        return ToolRunner.RunAsync(dotnet, [KeeperProcess.QuillDll, "topics", "--bootstrap-server", bootstrap, .. arguments], timeout: TimeSpan.FromSeconds(60));
    }

    private static async Task<ToolResult> RetryAsync(Func<Task<ToolResult>> run, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var result = await run();
            if (result.Succeeded || DateTime.UtcNow > deadline) return result;
            await Task.Delay(500);
        }
    }

    /// <summary>A base port whose run of client/Kafka ports (and, for Keeper servers, quorum +707 and election +1707 ports) is free.</summary>
    private static int FindBasePort(int keeperServers, int brokers)
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            int candidate = Random.Shared.Next(20_000, 28_000);
            var ports = Enumerable.Range(0, keeperServers).SelectMany(i => new[] { candidate + i, candidate + 707 + i, candidate + 1707 + i })
                .Concat(Enumerable.Range(candidate, brokers));
            if (ports.All(p => !IsListening(p) && CanBind(p))) return candidate;
        }
        throw new InvalidOperationException("no free range of ports for a local cluster");
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var l = new TcpListener(IPAddress.Loopback, port);
            l.Start();
            l.Stop();
            return true;
        }
        catch (SocketException) { return false; }
    }

    internal static bool IsListening(int port)
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>One `quill ...` command that starts member processes under a temp data dir and prints an address line.</summary>
    private sealed class LocalCommand : IAsyncDisposable
    {
        private readonly Process _quill;
        private readonly string _dir;
        private readonly System.Text.StringBuilder _output = new();
        private readonly TaskCompletionSource<string> _addresses = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private LocalCommand(Process quill, string dir) => (_quill, _dir) = (quill, dir);

        public string Output { get { lock (_output) return _output.ToString(); } }

        public static LocalCommand Start(string addressPrefix, params string[] arguments)
        {
            var dir = Path.Combine(Path.GetTempPath(), "quill-local-cluster-" + Guid.NewGuid().ToString("N")[..8]);
            string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
            var start = new ProcessStartInfo(dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { KeeperProcess.QuillDll }.Concat(arguments).Concat(["--data-dir", dir])) start.ArgumentList.Add(a);
            var command = new LocalCommand(Process.Start(start)!, dir);
            command._quill.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not { } l) return;
                lock (command._output) command._output.AppendLine(l);
                if (l.StartsWith(addressPrefix, StringComparison.Ordinal)) command._addresses.TrySetResult(l[addressPrefix.Length..]);
            };
            command._quill.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (command._output) command._output.AppendLine(l); };
            command._quill.BeginOutputReadLine();
            command._quill.BeginErrorReadLine();
            return command;
        }

        public bool HasExited => _quill.HasExited;

        /// <summary>The process id the command printed for a member ("broker 2: pid 1234").</summary>
        public int MemberPid(string member)
        {
            string prefix = member + ": pid ";
            var line = Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"the command printed no pid for {member}\n{Output}");
            return int.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
        }

        public async Task WaitForOutputAsync(string text, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!Output.Contains(text, StringComparison.Ordinal))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"the command did not print '{text}' within {timeout}\n{Output}");
                await Task.Delay(200);
            }
        }

        public async Task<string> AddressesAsync(TimeSpan timeout)
        {
            try
            {
                return await _addresses.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"no address line within {timeout}\n{Output}\n{MemberLogs()}");
            }
        }

        /// <summary>SIGTERM to the command: it must exit 0 within 90 s and leave nothing listening on <paramref name="ports"/>.</summary>
        public async Task StopAndAssertAllGoneAsync(IEnumerable<int> ports)
        {
            using (var kill = Process.Start("kill", $"-TERM {_quill.Id}")) await kill.WaitForExitAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await _quill.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail("the command did not stop within 90 s of SIGTERM\n" + Output);
            }
            Assert.Equal(0, _quill.ExitCode);
            foreach (int port in ports) Assert.False(IsListening(port), $"something still listens on {port} after the command stopped");
        }

        private string MemberLogs() => string.Join("\n", Directory.Exists(_dir)
            ? Directory.GetFiles(_dir, "*.log", SearchOption.AllDirectories).Select(f => $"--- {f}\n{Tail(File.ReadAllText(f))}")
            : []);

        private static string Tail(string text) => text.Length > 4000 ? text[^4000..] : text;

        public ValueTask DisposeAsync()
        {
            if (!_quill.HasExited) _quill.Kill(entireProcessTree: true);
            foreach (var p in Process.GetProcessesByName("dotnet"))
            {
                // Members left behind by a failed run: their command lines name a file under this run's directory.
                try { if (File.ReadAllText($"/proc/{p.Id}/cmdline").Contains(_dir, StringComparison.Ordinal)) p.Kill(); } catch (Exception) { }
            }
            _quill.Dispose();
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
            return ValueTask.CompletedTask;
        }
    }
}
