using System.Diagnostics;
using System.Text;

namespace Quill.Testing;

/// <summary>What an external tool did: its exit code and everything it printed.</summary>
public sealed record ToolResult(string Command, int ExitCode, string StdOut, string StdErr)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The whole run, for failure messages.</summary>
    public override string ToString() =>
        $"$ {Command}\nexit code {ExitCode}\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
}

/// <summary>
/// Runs real client tools (kazoo under /usr/bin/python3, zkCli.sh, kcat, ...) as processes with a timeout. A missing
/// tool throws with the command that installs it, so the test fails and says what to do.
/// </summary>
public static class ToolRunner
{
    public const string Python = "/usr/bin/python3";
    public const string ZkCli = "/usr/share/zookeeper/bin/zkCli.sh";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private static readonly Lazy<Task<string?>> KazooProblem = new(FindKazooProblemAsync);

    /// <summary>Runs <paramref name="fileName"/> with arguments, optional stdin and extra environment, and a timeout
    /// after which the process tree is killed and a <see cref="TimeoutException"/> (with the output so far) is thrown.</summary>
    public static async Task<ToolResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string? standardInput = null,
        TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var args = arguments.ToList();
        string command = string.Join(' ', new[] { fileName }.Concat(args.Select(Quote)));
        var start = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var arg in args) start.ArgumentList.Add(arg);
        if (environment is not null)
            foreach (var (key, value) in environment) start.Environment[key] = value;

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot run {fileName}: {e.Message}", e);
        }

        // Read both pipes concurrently so that neither fills up and blocks the tool.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null) await process.StandardInput.WriteAsync(standardInput);
        process.StandardInput.Close();

        var limit = timeout ?? DefaultTimeout;
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited just now.
            }
            await process.WaitForExitAsync();
            throw new TimeoutException(
                $"{command} did not finish within {limit}.\n--- stdout ---\n{await stdout}\n--- stderr ---\n{await stderr}");
        }
        return new ToolResult(command, process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs Python source under /usr/bin/python3 (where Debian's kazoo lives), with <paramref name="args"/>
    /// in sys.argv[1:].</summary>
    public static async Task<ToolResult> RunKazooAsync(string pythonScript, params string[] args)
    {
        await RequireKazooAsync();
        return await RunAsync(Python, new[] { "-c", pythonScript }.Concat(args), environment: PythonEnvironment);
    }

    /// <summary>Runs a Python script file under /usr/bin/python3 with kazoo available.</summary>
    public static async Task<ToolResult> RunKazooScriptFileAsync(string scriptPath, params string[] args)
    {
        await RequireKazooAsync();
        if (!File.Exists(scriptPath)) throw new FileNotFoundException("kazoo script not found", scriptPath);
        return await RunAsync(Python, new[] { scriptPath }.Concat(args), environment: PythonEnvironment);
    }

    /// <summary>
    /// One zkCli.sh command in one-shot mode (<c>zkCli.sh -server host:port cmd args</c>). zkCli prints a connection
    /// preamble and watcher lines to stdout and reports results such as "Created /x" or "Node does not exist: /x" on
    /// stderr; <see cref="ZkCliResult"/> separates the command's own output from that noise.
    /// </summary>
    public static async Task<ZkCliResult> RunZkCliAsync(string server, params string[] commandArgs)
    {
        if (!File.Exists(ZkCli))
            throw new InvalidOperationException($"{ZkCli} not found: apt-get install zookeeper");
        var environment = new Dictionary<string, string>
        {
            // zkCli.sh passes CLIENT_JVMFLAGS after its own -cp, and java takes the last -cp: the same class path
            // plus slf4j's no-op binding, which silences the "SLF4J: Failed to load class" warnings on stderr.
            ["CLIENT_JVMFLAGS"] = "-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar " +
                                  "-Xms16m -XX:+UseSerialGC -XX:TieredStopAtLevel=1",
        };
        var result = await RunAsync(ZkCli, new[] { "-server", server }.Concat(commandArgs), environment: environment);
        return new ZkCliResult(result);
    }

    private static readonly IReadOnlyDictionary<string, string> PythonEnvironment = new Dictionary<string, string>
    {
        ["PYTHONUNBUFFERED"] = "1",
        ["PYTHONDONTWRITEBYTECODE"] = "1",
        ["PYTHONIOENCODING"] = "utf-8",
    };

    private static async Task RequireKazooAsync()
    {
        if (await KazooProblem.Value is { } problem) throw new InvalidOperationException(problem);
    }

    private static async Task<string?> FindKazooProblemAsync()
    {
        if (!File.Exists(Python)) return $"{Python} not found: apt-get install python3 python3-kazoo";
        var probe = await RunAsync(Python, new[] { "-c", "import kazoo" }, timeout: TimeSpan.FromSeconds(30));
        return probe.Succeeded ? null : $"kazoo cannot be imported by {Python}: apt-get install python3-kazoo\n{probe}";
    }

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./:=@,+".Contains(c)) ? arg : $"'{arg.Replace("'", "'\\''")}'";
}

/// <summary>A zkCli.sh one-shot run with the connection noise taken out.</summary>
public sealed class ZkCliResult
{
    public ZkCliResult(ToolResult raw)
    {
        Raw = raw;
        Output = Clean(raw.StdOut);
        Messages = Clean(raw.StdErr);
    }

    /// <summary>The process as it ran, for failure messages.</summary>
    public ToolResult Raw { get; }
    public int ExitCode => Raw.ExitCode;

    /// <summary>The command's own stdout lines (data, children, stat fields), without the connection preamble.</summary>
    public IReadOnlyList<string> Output { get; }

    /// <summary>The command's stderr lines: "Created /x", "Node already exists: /x", "Node does not exist: /x", ...</summary>
    public IReadOnlyList<string> Messages { get; }

    /// <summary>The stat fields printed by <c>stat</c> or <c>get -s</c>, e.g. ["dataVersion"] = "1".</summary>
    public IReadOnlyDictionary<string, string> StatFields =>
        Output.Select(line => line.Split(" = ", 2))
            .Where(parts => parts.Length == 2 && StatNames.Contains(parts[0]))
            .ToDictionary(parts => parts[0], parts => parts[1]);

    public override string ToString() => Raw.ToString();

    private static readonly HashSet<string> StatNames =
    [
        "cZxid", "ctime", "mZxid", "mtime", "pZxid", "cversion", "dataVersion", "aclVersion", "ephemeralOwner",
        "dataLength", "numChildren",
    ];

    // The noise: "Connecting to host:port", "WATCHER::", "WatchedEvent state:SyncConnected type:None path:null"
    // (printed by the event thread, so it may land among the command's lines), SLF4J/log4j warnings, blank lines.
    private static IReadOnlyList<string> Clean(string text) =>
        text.Split('\n')
            .Select(line => line.TrimEnd('\r'))
            .Where(line => line.Length > 0
                           && !line.StartsWith("Connecting to ", StringComparison.Ordinal)
                           && line != "WATCHER::"
                           && !(line.StartsWith("WatchedEvent state:", StringComparison.Ordinal) && line.EndsWith("type:None path:null", StringComparison.Ordinal))
                           && !line.StartsWith("SLF4J:", StringComparison.Ordinal)
                           && !line.StartsWith("log4j:", StringComparison.Ordinal))
            .ToList();
}
