using Quill.Testing;

namespace Quill.Cli.Tests;

/// <summary>The shell without a command: prompt, watches and their events, history/redo, close/connect, quit.</summary>
public sealed class InteractiveShellTests(KeeperFixture fixture) : ZkTestBase(fixture)
{
    [Fact]
    public async Task Prompt_counts_commands_and_quit_ends_the_shell()
    {
        var run = await QuillZk.RunInteractiveAsync(Server, $"create {Root} x", "", $"get {Root}", "quit", "ls /");
        string prompt = $"[zk: {Server}(CONNECTED) ";
        Expect(run.ExitCode == 0, run);
        Expect(run.StdOut.Contains("Welcome to ZooKeeper!") && run.StdOut.Contains(prompt + "0] ")
               && run.StdOut.Contains(prompt + "1] x\n") && run.StdOut.Contains(prompt + "2] "), run);
        Expect(!run.StdOut.Contains(prompt + "3] ") && !run.StdOut.Contains("zookeeper"), run); // nothing after quit
        Expect(run.StdErr.Contains($"Created {Root}"), run);
    }

    [Fact]
    public async Task One_shot_watches_print_events_once()
    {
        var run = await QuillZk.RunInteractiveAsync(Server,
            $"create {Root} a", $"get -w {Root}", $"stat -w {Root}", $"ls -w {Root}",
            $"set {Root} b", $"create {Root}/kid x", $"set {Root} c", "quit");
        Expect(run.ExitCode == 0, run);
        var events = Events(run);
        // get -w and stat -w watch the same data: one event; the next set is not watched any more.
        ExpectLines([$"WatchedEvent state:SyncConnected type:NodeDataChanged path:{Root}",
                     $"WatchedEvent state:SyncConnected type:NodeChildrenChanged path:{Root}"], events, run);
        Expect(run.StdOut.Contains("\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeDataChanged"), run);
    }

    [Fact]
    public async Task AddWatch_removewatches_and_printwatches()
    {
        var run = await QuillZk.RunInteractiveAsync(Server,
            $"create {Root} a", $"addWatch {Root}", $"create {Root}/x 1", $"set {Root}/x 2",
            "printwatches", "printwatches off", $"set {Root}/x 3", "printwatches", "printwatches on",
            $"removewatches {Root}", $"set {Root}/x 4", $"removewatches {Root}", $"addWatch -m bogus {Root}", "quit");
        var events = Events(run);
        ExpectLines([$"WatchedEvent state:SyncConnected type:NodeCreated path:{Root}/x",
                     $"WatchedEvent state:SyncConnected type:NodeDataChanged path:{Root}/x",
                     $"WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:{Root}"], events, run);
        Expect(run.StdOut.Contains("] printwatches is on\n") && run.StdOut.Contains("] printwatches is off\n"), run);
        Expect(run.StdErr.Contains($"KeeperErrorCode = No such watcher for {Root}")
               && run.StdErr.Contains("addWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE"), run);
        Expect(run.ExitCode == 1, run); // quit keeps the exit code of the command before it
    }

    [Fact]
    public async Task History_and_redo()
    {
        var run = await QuillZk.RunInteractiveAsync(Server,
            $"create {Root} x", $"ls {Root}", $"create {Root}/n y", "history", "redo 1", "redo 9", "redo", "quit");
        string[] lines = run.StdOut.Split('\n');
        Expect(lines.Any(l => l.EndsWith($"] 0 - create {Root} x")) && lines.Contains($"1 - ls {Root}")
               && lines.Contains($"2 - create {Root}/n y") && lines.Contains("3 - history"), run);
        Expect(lines.Count(l => l.EndsWith("[]")) == 1 && lines.Any(l => l.EndsWith("] [n]")), run); // redo 1 ran "ls" again
        Expect(run.StdErr.Contains("Command index out of range"), run);
    }

    [Fact]
    public async Task Close_then_connect_opens_a_new_session()
    {
        var run = await QuillZk.RunInteractiveAsync(Server,
            $"create -e {Root} x", "close", $"ls {Root}", $"connect {Server}", $"stat {Root}", "quit");
        string stdout = run.StdOut;
        Expect(stdout.Contains("WatchedEvent state:Closed type:None path:null") && stdout.Contains($"[zk: {Server}(CLOSED) 2] Not connected"), run);
        // The ephemeral went with the closed session; the new session sees it gone.
        Expect(stdout.Split("WatchedEvent state:SyncConnected type:None path:null").Length == 3
               && run.StdErr.Contains($"Node does not exist: {Root}"), run);
    }

    [Fact]
    public async Task Quoted_words_in_a_line()
    {
        var run = await QuillZk.RunInteractiveAsync(Server, $"create {Root} 'two words'", $"get \"{Root}\"", "quit");
        Expect(run.StdOut.Contains("] two words\n"), run);
    }

    /// <summary>The watch events (not the session's) the shell printed, in order.</summary>
    private static List<string> Events(ToolResult run) =>
        run.StdOut.Split('\n').Where(l => l.StartsWith("WatchedEvent ") && !l.EndsWith("type:None path:null")).ToList();
}
