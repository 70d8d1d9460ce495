using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Quill.Testing;

namespace Quill.Compat.Tests.Ensemble;

/// <summary>`quill keeper start --ensemble 3`: one command, three member processes, a connect string that works, and SIGTERM stops all.</summary>
public sealed class LocalEnsembleCommandTests
{
    [Fact]
    public async Task keeper_start_ensemble_3_prints_a_connect_string_that_kazoo_writes_and_reads_through_and_sigterm_stops_every_member()
    {
        int basePort = FindBasePort();
        var dir = Path.Combine(Path.GetTempPath(), "quill-local-ensemble-" + Guid.NewGuid().ToString("N")[..8]);
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { KeeperProcess.QuillDll, "keeper", "start", "--ensemble", "3", "--data-dir", dir, "--client-port", basePort.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        using var quill = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        var connect = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        quill.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } l) return;
            lock (output) output.AppendLine(l);
            if (l.StartsWith("Connect string: ", StringComparison.Ordinal)) connect.TrySetResult(l["Connect string: ".Length..]);
        };
        quill.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (output) output.AppendLine(l); };
        quill.BeginOutputReadLine();
        quill.BeginErrorReadLine();
        try
        {
            var hosts = await connect.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal($"127.0.0.1:{basePort},127.0.0.1:{basePort + 1},127.0.0.1:{basePort + 2}", hosts);

            // The members elect a leader on their own; the replicate step writes through the first and reads through each.
            ToolResult? run = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (DateTime.UtcNow < deadline)
            {
                run = await ToolRunner.RunKazooScriptFileAsync(EnsembleClient.ScriptPath, "replicate", hosts);
                if (run.Succeeded) break;
                await Task.Delay(500);
            }
            Assert.True(run!.Succeeded, $"{run}\n{output}");
            foreach (var h in hosts.Split(','))
                Assert.Contains($"{h} multi version=51 children=m,seq-0000000000", run.StdOut);

            using (var kill = Process.Start("kill", $"-TERM {quill.Id}")) kill.WaitForExit();
            Assert.True(quill.WaitForExit(60_000), "quill keeper start --ensemble did not stop on SIGTERM\n" + output);
            Assert.Equal(0, quill.ExitCode);
            for (int i = 0; i < 3; i++) Assert.False(IsListening(basePort + i), $"a member still listens on {basePort + i} after the command stopped");
        }
        finally
        {
            if (!quill.HasExited) quill.Kill(entireProcessTree: true);
            foreach (var p in Process.GetProcessesByName("dotnet"))
            {
                // Members left behind by a failed run: they run `keeper start --config <dir>/s<N>/zoo.cfg`.
                try { if (File.ReadAllText($"/proc/{p.Id}/cmdline").Contains(dir, StringComparison.Ordinal)) p.Kill(); } catch (Exception) { }
            }
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>A client port base whose 3 client, quorum (+707) and election (+1707) ports are all free.</summary>
    private static int FindBasePort()
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            int candidate = Random.Shared.Next(20_000, 28_000);
            var ports = Enumerable.Range(0, 3).SelectMany(i => new[] { candidate + i, candidate + 707 + i, candidate + 1707 + i });
            if (ports.All(p => !IsListening(p) && CanBind(p))) return candidate;
        }
        throw new InvalidOperationException("no free range of ports for a local ensemble");
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

    private static bool IsListening(int port)
    {
        try
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException) { return false; }
    }
}
