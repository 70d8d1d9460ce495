using System.Diagnostics;
using System.Text;
using Quill.Testing;

namespace Quill.Cli.Tests;

/// <summary>Session events in the interactive shell when its server goes away and comes back (a Keeper of its own).</summary>
public sealed class SessionEventTests
{
    [Fact]
    public async Task Losing_and_regaining_the_server_prints_session_events()
    {
        await using var keeper = await KeeperProcess.StartAsync();
        using var shell = Shell.Start(keeper.ConnectString);
        try
        {
            await shell.WaitForAsync("(CONNECTED) 0] ");
            shell.Send("create /before x");
            await shell.WaitForAsync("(CONNECTED) 1] ");

            keeper.Kill();
            await shell.WaitForAsync("\nWATCHER::\n\nWatchedEvent state:Disconnected type:None path:null\n");
            await keeper.StartAgainAsync();
            await shell.WaitForAsync("WatchedEvent state:Disconnected type:None path:null\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n");

            shell.Send("ls /");
            await shell.WaitForAsync("(CONNECTED) 2] ");
            shell.Send("quit");
            Assert.True(await shell.ExitedAsync(), shell.ToString());
            Assert.Contains("[before, zookeeper]\n", shell.Output);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{shell}\n{keeper.Diagnostics()}", e);
        }
    }

    /// <summary>`quill zk` with stdin kept open, so lines can be sent as the test goes.</summary>
    private sealed class Shell : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _out = new();
        private readonly StringBuilder _err = new();

        private Shell(Process process) => _process = process;

        public static Shell Start(string server)
        {
            string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
            var start = new ProcessStartInfo(dotnet)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (string arg in new[] { KeeperProcess.QuillDll, "zk", "-server", server, "-timeout", "30000" }) start.ArgumentList.Add(arg);
            var shell = new Shell(new Process { StartInfo = start });
            shell._process.Start();
            _ = Pump(shell._process.StandardOutput, shell._out);
            _ = Pump(shell._process.StandardError, shell._err);
            return shell;
        }

        public string Output
        {
            get { lock (_out) return _out.ToString(); }
        }

        public void Send(string line)
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
        }

        public async Task WaitForAsync(string text, int timeoutSeconds = 30)
        {
            var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
            while (!Output.Contains(text))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"quill zk did not print \"{text}\" within {timeoutSeconds} s");
                await Task.Delay(50);
            }
        }

        public async Task<bool> ExitedAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public override string ToString()
        {
            lock (_err) return $"--- quill zk stdout ---\n{Output}\n--- stderr ---\n{_err}";
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }

        /// <summary>Reads by character: the prompt has no line end.</summary>
        private static async Task Pump(StreamReader reader, StringBuilder into)
        {
            var buffer = new char[4096];
            int read;
            while ((read = await reader.ReadAsync(buffer)) > 0)
                lock (into) into.Append(buffer, 0, read);
        }
    }
}
