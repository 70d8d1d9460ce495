using System.Diagnostics;
using Quill.Keeper.Storage;

namespace Quill.Keeper.Tests.Storage;

/// <summary>
/// kill -9 a process that is writing the txn log and check that every txn it reported as committed is
/// recovered, several times over the same directory (each writer recovers the previous one's tail, then is
/// killed in turn). Several rounds because a kill often lands inside an fsync, where even a writer that
/// acknowledges too early would lose nothing. The writer is Quill.Keeper.Tests.CrashWriter, built beside
/// this assembly.
/// </summary>
public class TxnLogCrashTests
{
    // Same formula as CrashWriter's Program.BodyOf.
    private static byte[] BodyOf(long zxid)
    {
        var body = new byte[(int)(zxid * 37 % 700)];
        for (int i = 0; i < body.Length; i++) body[i] = (byte)(zxid + i);
        return body;
    }

    [Fact]
    public async Task Every_txn_reported_committed_survives_kill_9()
    {
        using var dir = new TempDirectory();
        long promised = 0;
        const int rounds = 4;
        for (int round = 0; round < rounds; round++)
        {
            promised = Math.Max(promised, await RunWriterAndKill(dir.Path, commitsBeforeKill: 150 + round * 50));

            // Only the last round recovers here; before that the next writer's own recovery repairs the tail.
            List<TxnEntry> replayed;
            if (round < rounds - 1)
            {
                using var reader = Txns.Open(dir.Path);
                replayed = reader.ReadFrom(0).ToList();
            }
            else
            {
                replayed = Txns.Recover(dir.Path);
            }
            Assert.True(replayed.Count >= promised, $"round {round}: writer reported zxid {promised} committed, recovered only {replayed.Count}");
            for (int i = 0; i < replayed.Count; i++)
            {
                var entry = replayed[i];
                Assert.Equal(i + 1, entry.Zxid);
                Assert.Equal(0x5eed, entry.SessionId);
                Assert.Equal(entry.Zxid * 1000, entry.Time);
                Assert.Equal(BodyOf(entry.Zxid), entry.Body);
            }
        }
        Assert.True(Directory.GetFiles(dir.Path, "log.*").Length >= 3, "the writer should have rolled through several files");
    }

    /// <summary>Starts the writer, waits for some commits, kills it with SIGKILL; returns the highest zxid it reported committed.</summary>
    private static async Task<long> RunWriterAndKill(string logDir, int commitsBeforeKill)
    {
        var writerDll = Path.Combine(AppContext.BaseDirectory, "Quill.Keeper.Tests.CrashWriter.dll");
        Assert.True(File.Exists(writerDll), $"{writerDll} is missing: build tests/Quill.Keeper.Tests (it references the CrashWriter project).");
        var start = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(writerDll);
        start.ArgumentList.Add(logDir);

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        long lastCommitted = 0;
        int commits = 0;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (commits < commitsBeforeKill)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null)
                    Assert.Fail($"writer exited early with {(process.WaitForExit(5000) ? process.ExitCode : -1)}: {await stderr}");
                long zxid = long.Parse(line);
                Assert.True(zxid > lastCommitted);
                lastCommitted = zxid;
                commits++;
            }
        }
        finally
        {
            process.Kill(entireProcessTree: false); // SIGKILL on Unix
            await process.WaitForExitAsync();
        }
        // Lines already printed before the kill took effect are promises too.
        while (await process.StandardOutput.ReadLineAsync() is { } rest)
        {
            if (long.TryParse(rest, out long zxid)) lastCommitted = Math.Max(lastCommitted, zxid);
        }
        return lastCommitted;
    }
}
