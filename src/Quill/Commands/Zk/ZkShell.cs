using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Commands.Zk;

/// <summary>
/// zkCli's shell: one session to a server, the commands that run on it, and the shell's own commands (connect,
/// close, history, redo, printwatches, quit, help). Output goes where zkCli sends it: results to stdout, "Created"
/// and errors to stderr, watch events to stdout as they arrive.
/// </summary>
public sealed class ZkShell : IAsyncDisposable
{
    private const int CommandNotFound = 127;

    private static readonly Dictionary<string, ZkCliCommand> Commands = ZkCommands.All.ToDictionary(c => c.Name, StringComparer.Ordinal);

    /// <summary>The shell's own commands and their usage, as zkCli lists them.</summary>
    private static readonly Dictionary<string, string> ShellCommands = new(StringComparer.Ordinal)
    {
        ["connect"] = "host:port",
        ["history"] = "",
        ["redo"] = "cmdno",
        ["printwatches"] = "on|off",
        ["quit"] = "",
        ["help"] = "",
    };

    private readonly ZkInvocation _invocation;
    private readonly TextReader _input;
    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private readonly object _outputLock = new();
    private readonly Dictionary<int, string> _history = [];
    private readonly Action<WatchedEvent> _watcher;
    private KeeperClient? _client;
    private SessionState? _announcedState;
    private TaskCompletionSource? _closedAnnounced;
    private string _host;
    private int _commandCount;
    private int _exitCode;
    private bool _quit;
    private volatile bool _printWatches = true;

    public ZkShell(ZkInvocation invocation, TextReader input, TextWriter output, TextWriter error)
    {
        _invocation = invocation;
        _input = input;
        _out = output;
        _err = error;
        _host = invocation.Server;
        _watcher = OnWatchedEvent;
    }

    /// <summary>The session the commands use (they run only while it is alive).</summary>
    public KeeperClient Client => _client ?? throw new CliException("Not connected");

    /// <summary>The watcher -w and addWatch set: it prints each event (zkCli's default watcher). One identity, so
    /// watching a node twice still prints its event once.</summary>
    public Action<WatchedEvent> Watcher => _watcher;

    public void Out(string line)
    {
        lock (_outputLock) _out.WriteLine(line);
    }

    public void Err(string line)
    {
        lock (_outputLock) _err.WriteLine(line);
    }

    /// <summary>Runs the invocation: its one command, or the interactive loop. Returns zkCli's exit code.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        var command = _invocation.Command;
        // Commands that need no server answer before the connection attempt (zkCli prints them at once too).
        if (command is not null && (command[0] == "help" || !(Commands.ContainsKey(command[0]) || ShellCommands.ContainsKey(command[0]))))
        {
            await ProcessAsync(command);
            return _exitCode;
        }

        Out($"Connecting to {_host}");
        bool connected = await ConnectAsync(_host, cancellationToken);
        if (command is not null)
        {
            if (!connected) return _exitCode;
            await ProcessAsync(command);
            return _exitCode;
        }

        Out("Welcome to ZooKeeper!");
        while (!_quit && !cancellationToken.IsCancellationRequested)
        {
            lock (_outputLock)
            {
                _out.Write(Prompt());
                _out.Flush();
            }
            string? line = await _input.ReadLineAsync(cancellationToken);
            if (line is null) break;
            if (string.IsNullOrWhiteSpace(line)) continue;
            _history[_commandCount] = line;
            await ProcessAsync(LineSplitter.Split(line));
            _commandCount++;
        }
        return _exitCode;
    }

    public string Prompt() => $"[zk: {_host}({ZkFormat.PromptState(_client?.State)}) {_commandCount}] ";

    /// <summary>Runs one command, printing its failure and setting the exit code as zkCli's processCmd does.</summary>
    private async Task ProcessAsync(IReadOnlyList<string> words)
    {
        if (words.Count == 0) return;
        try
        {
            if (await DispatchAsync(words)) _exitCode = ExitCodes.Ok;
        }
        catch (CliException e)
        {
            _exitCode = e.ExitCode;
            if (e.Message.Length > 0) Err(e.Message);
        }
        catch (KeeperException e)
        {
            _exitCode = ExitCodes.Failed;
            Err(ZkErrors.Message(e));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Anything else (a closed client, a protocol error) fails this command, not the shell.
            _exitCode = ExitCodes.Failed;
            Err(e.Message);
        }
    }

    /// <summary>Runs a command; false when it must leave the exit code alone (quit keeps the previous one).</summary>
    private async Task<bool> DispatchAsync(IReadOnlyList<string> words)
    {
        string name = words[0];
        bool isShellCommand = ShellCommands.ContainsKey(name);
        if (!isShellCommand && !Commands.ContainsKey(name))
        {
            lock (_outputLock) PrintUsage(_err);
            throw new CliException($"Command not found: Command not found {name}", CommandNotFound);
        }

        switch (name)
        {
            case "quit":
                _quit = true;
                return false;
            case "help":
                lock (_outputLock) PrintUsage(_out);
                return true;
            case "redo" when words.Count >= 2:
                await RedoAsync(words[1]);
                return false;
            case "history":
                for (int i = Math.Max(0, _commandCount - 10); i <= _commandCount; i++)
                    Out($"{i} - {_history.GetValueOrDefault(i) ?? "null"}");
                break;
            case "printwatches":
                if (words.Count == 1) Out($"printwatches is {(_printWatches ? "on" : "off")}");
                else _printWatches = words[1] == "on";
                break;
            case "connect":
                await ConnectAsync(words.Count >= 2 ? words[1] : _host, CancellationToken.None);
                break;
        }

        // As in zkCli, every command but quit and help needs a live session, and says so when there is none.
        if (!IsAlive)
        {
            Out("Not connected");
            return true;
        }
        if (!isShellCommand) await Commands[name].ExecuteAsync(this, words);
        return true;
    }

    private async Task RedoAsync(string indexText)
    {
        bool parsed = indexText.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? int.TryParse(indexText[2..], System.Globalization.NumberStyles.AllowHexSpecifier, null, out int index)
            : int.TryParse(indexText, out index);
        if (!parsed) throw new CliException($"For input string: \"{indexText}\"");
        if (index < 0 || index >= _commandCount) throw new CliException("Command index out of range");
        var words = LineSplitter.Split(_history[index]);
        if (words.Count > 0 && words[0] == "redo") throw new CliException("No redoing redos");
        _history[_commandCount] = _history[index];
        await ProcessAsync(words);
    }

    private bool IsAlive => _client?.State is SessionState.Connected or SessionState.ConnectedReadOnly or SessionState.Disconnected;

    /// <summary>Opens a session to <paramref name="host"/>, closing the current one first (as zkCli's connect).</summary>
    private async Task<bool> ConnectAsync(string host, CancellationToken cancellationToken)
    {
        if (_client is not null) await CloseAsync(announce: IsAlive);
        _host = host;
        var options = new KeeperClientOptions
        {
            SessionTimeout = TimeSpan.FromMilliseconds(_invocation.TimeoutMs),
            ConnectTimeout = TimeSpan.FromMilliseconds(_invocation.TimeoutMs),
            CanBeReadOnly = _invocation.ReadOnly,
        };
        KeeperClient client;
        try
        {
            client = await KeeperClient.ConnectAsync(host, options, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or System.Net.Sockets.SocketException or IOException)
        {
            return Failed(ZkErrors.JavaMessage(ErrorCode.ConnectionLoss, null));
        }
        catch (KeeperException e)
        {
            return Failed(ZkErrors.Message(e));
        }
        catch (ArgumentException e)
        {
            return Failed(e.Message);
        }

        _client = client;
        _announcedState = null;
        client.StateChanged += OnStateChanged;
        // The Connected change may have been raised before the handler was attached: announce it here, once.
        Announce(client, client.State);
        return true;

        bool Failed(string message)
        {
            Err(message);
            _exitCode = ExitCodes.Failed;
            return false;
        }
    }

    /// <summary>Ends the session. With <paramref name="announce"/> the Closed event is printed (zkCli's close and
    /// connect do); otherwise the shell is exiting and stays quiet, as zkCli does.</summary>
    public async Task CloseAsync(bool announce)
    {
        var client = _client;
        if (client is null) return;
        if (!announce) client.StateChanged -= OnStateChanged;
        var closed = _closedAnnounced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.CloseAsync();
        // The Closed event is delivered on the client's event thread; wait for it so it prints before the next prompt.
        if (announce) await closed.Task.WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is { } client && client.State != SessionState.Closed) await CloseAsync(announce: false);
    }

    private void OnStateChanged(object? sender, SessionState state)
    {
        if (sender is KeeperClient client) Announce(client, state);
    }

    private void Announce(KeeperClient client, SessionState state)
    {
        lock (_outputLock)
        {
            if (client != _client || state == _announcedState) return;
            _announcedState = state;
        }
        PrintEvent(ZkFormat.Event(ZkFormat.ToKeeperState(state), EventType.None, null));
        if (state == SessionState.Closed) _closedAnnounced?.TrySetResult();
    }

    private void OnWatchedEvent(WatchedEvent e)
    {
        // Session events reach every watcher; the shell prints those once, from StateChanged.
        if (e.Type != EventType.None) PrintEvent(ZkFormat.Event(e));
    }

    private void PrintEvent(string text)
    {
        if (!_printWatches) return;
        lock (_outputLock)
        {
            _out.WriteLine();
            _out.WriteLine("WATCHER::");
            _out.WriteLine();
            _out.WriteLine(text);
        }
    }

    /// <summary>zkCli's usage: a synopsis, then every command with its usage, sorted.</summary>
    public static void PrintUsage(TextWriter writer)
    {
        writer.WriteLine("ZooKeeper -server host:port -timeout ms cmd args");
        var lines = Commands.Values.Select(c => (c.Name, c.Usage)).Concat(ShellCommands.Select(p => (Name: p.Key, Usage: p.Value)));
        foreach (var (name, usage) in lines.OrderBy(l => l.Name, StringComparer.Ordinal))
            writer.WriteLine($"\t{name} {usage}");
    }
}
