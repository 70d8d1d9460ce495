using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Quill.Testing;
using Quill.Testing.Fuzzing;
using Xunit.Abstractions;

namespace Quill.Keeper.Tests.Fuzzing;

/// <summary>
/// Mutated frames of every request type thrown at the real `quill` process in rounds; after each round a real client
/// (kazoo) must still be served and find everything it wrote in earlier rounds. At the end the server must still be
/// up and its log must hold no error or crash. The suite runs a short form; the long form is the same test with
/// QUILL_FUZZ_FRAMES set (scripts/fuzz.sh keeper 1000000). QUILL_FUZZ_SEED picks another sequence of mutations.
/// </summary>
public sealed class LiveFuzzTests(ITestOutputHelper output)
{
    private const int DefaultFrames = 20_000;
    private const int DefaultSeed = 20261203;
    /// <summary>Connections fuzzing at once; the server's limit per address (maxClientCnxns, 60) is far away.</summary>
    private const int Workers = 3;
    /// <summary>How long a server may take to close a connection whose client finished, or to answer the checker.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task keeper_survives_mutated_frames_and_loses_nothing_acknowledged()
    {
        int totalFrames = EnvInt("QUILL_FUZZ_FRAMES", DefaultFrames);
        int seed = EnvInt("QUILL_FUZZ_SEED", DefaultSeed);
        int rounds = Math.Clamp(totalFrames / 1000, 1, 200);
        int perWorkerPerRound = (totalFrames + rounds * Workers - 1) / (rounds * Workers); // at least the frames asked for
        var clock = Stopwatch.StartNew();

        await using var keeper = await FileLoggedKeeperProcess.StartAsync();
        await using var checker = await KazooChecker.StartAsync(keeper.ConnectString);
        var workers = Enumerable.Range(0, Workers).Select(i => new Worker(seed + 7919 * i)).ToList();
        string Context() => $"seed {seed}, after {workers.Sum(w => w.Frames)} frames\n{checker.Diagnostics()}\n{keeper.Diagnostics()}";

        for (int round = 1; round <= rounds; round++)
        {
            try
            {
                await Task.WhenAll(workers.Select(w => w.RunAsync(keeper.Port, perWorkerPerRound)));
            }
            catch (TimeoutException e)
            {
                Assert.Fail($"round {round}: Keeper hangs: {e.Message}\n{Context()}");
            }
            Assert.True(keeper.IsRunning, $"round {round}: Keeper is no longer running\n{Context()}");
            string verdict = await checker.RoundAsync(round, Patience);
            Assert.True(verdict.StartsWith("ok ", StringComparison.Ordinal), $"round {round}: the checker says: {verdict}\n{Context()}");
        }

        Assert.StartsWith("imok", await keeper.FourLetterWordAsync("ruok"));
        // Frames written to a connection the server had already decided to close were never read: make sure that most
        // were (the server's own count of requests taken, handshakes and four-letter words not included).
        long frames = workers.Sum(w => w.Frames);
        string srvr = await keeper.FourLetterWordAsync("srvr");
        long received = long.Parse(Regex.Match(srvr, @"Received: (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var (problems, warnings) = ServerLogScan.Scan(keeper.LogFile);
        Assert.True(problems.Count == 0, $"Keeper logged errors:\n{string.Join('\n', problems)}\n{Context()}");

        output.WriteLine($"{frames} frames ({received} requests taken by Keeper) over {workers.Sum(w => w.Connections)} connections " +
            $"({workers.Sum(w => w.ClosedEarly)} closed by Keeper before their last frame) in {rounds} rounds, " +
            $"{clock.Elapsed.TotalSeconds:F1} s, seed {seed}; {warnings.Values.Sum()} warnings in Keeper's log, most often:");
        foreach (var (kind, count) in warnings.OrderByDescending(w => w.Value).Take(12)) output.WriteLine($"  {count,8}  {kind}");
        var counts = workers.SelectMany(w => w.Counts).GroupBy(c => c.Key).Select(g => $"{g.Key} {g.Sum(c => c.Value)}");
        output.WriteLine("mutations: " + string.Join(", ", counts));
        Assert.True(received > frames / 4, $"Keeper took only {received} of the {frames} frames: the fuzzing hardly reached it\n{srvr}");
    }

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) && value > 0 ? value : fallback;

    private static readonly byte[] Ping = [0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11];
    /// <summary>The front of Keeper's answer to a ping: a 16-byte frame with xid -2.</summary>
    private static readonly byte[] PingAnswer = [0, 0, 0, 16, 0xff, 0xff, 0xff, 0xfe];

    /// <summary>One fuzzing connection after another, each a handshake (usually valid) and a burst of mutated requests.</summary>
    private sealed class Worker(int seed)
    {
        // The request header (xid, opcode) is mutated seldom: a bad opcode ends the connection, and the rest unread.
        private readonly FrameMutator _requests = new(KeeperFuzzSeeds.Requests(), seed, headerLength: 8, headerMutationShare: 0.03);
        private readonly IReadOnlyList<byte[]> _enders = KeeperFuzzSeeds.Enders();
        private readonly FrameMutator _connects = new(KeeperFuzzSeeds.Connects(), seed + 1, unmutatedShare: 0.3);
        private readonly IReadOnlyList<byte[]> _words = KeeperFuzzSeeds.FourLetterWords();

        public long Frames { get; private set; }
        public long Connections { get; private set; }
        public long ClosedEarly { get; private set; }
        public IEnumerable<KeyValuePair<Mutation, long>> Counts => _requests.Counts.Concat(_connects.Counts);

        public async Task RunAsync(int port, int frames)
        {
            var rng = _requests.Random;
            int refusedInARow = 0;
            while (frames > 0)
            {
                // Chunks of 1 to 32 frames written at once: pipelined requests, as real clients send them.
                var chunks = new List<byte[]>();
                var framesInChunk = new List<int>();
                if (rng.Next(50) == 0)
                {
                    chunks.Add(_words[rng.Next(_words.Count)]);
                    framesInChunk.Add(1);
                }
                else
                {
                    // Mostly a valid handshake for a new session, so that the requests behind it are read; odd
                    // handshakes (mostly refused, and the connection closed) have only a few requests behind them.
                    bool oddHandshake = rng.Next(5) == 0;
                    chunks.Add(oddHandshake ? _connects.NextFrame() : _connects.Frame(_connects.Seeds[0]));
                    framesInChunk.Add(1);
                    int planned = Math.Min(frames, 1 + (oddHandshake ? rng.Next(4) : rng.Next(rng.Next(4) == 0 ? 120 : 25)));
                    while (planned > 0)
                    {
                        int n = Math.Min(planned, 1 + rng.Next(32));
                        var chunk = new List<byte>();
                        for (int i = 0; i < n; i++) chunk.AddRange(_requests.NextFrame());
                        chunks.Add([.. chunk]);
                        framesInChunk.Add(n);
                        planned -= n;
                    }
                    // The last frame ends the connection, or is a ping whose answer says that Keeper handled all before it.
                    chunks.Add(rng.Next(5) == 0 ? _requests.Frame(_enders[rng.Next(_enders.Count)]) : Ping);
                    framesInChunk.Add(1);
                }
                var result = await FuzzConnection.RunAsync(port, chunks, Patience, PingAnswer);
                int sent = framesInChunk.Take(result.ChunksSent).Sum();
                Connections++;
                Frames += sent;
                if (result.ClosedEarly) ClosedEarly++;
                // Frames the server never took still count against the round, or a server that refuses everything
                // would keep the test looping.
                frames -= framesInChunk.Sum();
                refusedInARow = sent == 0 ? refusedInARow + 1 : 0;
                if (refusedInARow >= 100) throw new TimeoutException("100 connections in a row took no frame");
            }
        }
    }

    /// <summary>The kazoo checker (scripts/fuzz_checker.py) as a long-running process driven line by line.</summary>
    private sealed class KazooChecker : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _stderr = new();

        private KazooChecker(Process process)
        {
            _process = process;
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_stderr) if (_stderr.Length < 64 * 1024) _stderr.AppendLine(e.Data);
            };
            process.BeginErrorReadLine();
        }

        public static async Task<KazooChecker> StartAsync(string hosts)
        {
            var start = new ProcessStartInfo(ToolRunner.Python)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var arg in new[] { "-u", Path.Combine(AppContext.BaseDirectory, "scripts", "fuzz_checker.py"), hosts })
                start.ArgumentList.Add(arg);
            var checker = new KazooChecker(Process.Start(start)!);
            string ready = await checker.ReadLineAsync(Patience);
            if (ready != "ready") throw new InvalidOperationException($"the kazoo checker did not start: {ready}\n{checker.Diagnostics()}");
            return checker;
        }

        public async Task<string> RoundAsync(int round, TimeSpan timeout)
        {
            await _process.StandardInput.WriteLineAsync($"round {round}");
            await _process.StandardInput.FlushAsync();
            return await ReadLineAsync(timeout);
        }

        private async Task<string> ReadLineAsync(TimeSpan timeout)
        {
            try
            {
                return await _process.StandardOutput.ReadLineAsync().WaitAsync(timeout) ?? "(the checker exited)";
            }
            catch (TimeoutException)
            {
                return $"(no answer within {timeout})";
            }
        }

        public string Diagnostics()
        {
            lock (_stderr) return $"--- kazoo checker stderr ---\n{_stderr}";
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await _process.StandardInput.WriteLineAsync("quit");
                _process.StandardInput.Close();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException) { }
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }
}
