using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Quill.Kafka.Protocol.Records;
using Quill.Testing.Fuzzing;
using Xunit.Abstractions;

namespace Quill.Broker.Compat.Tests.Fuzzing;

/// <summary>
/// Mutated Kafka requests of every kind a client sends thrown at the real `quill start` process in rounds. Most
/// mutated produce batches get their CRC made right again, so that the mutation reaches the record decoding behind
/// it. After each round a real client (Confluent.Kafka) must still be served, must find every record it was
/// acknowledged in earlier rounds at its offset, and must be able to read everything the broker stored from the
/// fuzzed topics (so nothing acknowledged to the fuzzer is unreadable), and lookups by time must answer. At the end
/// the broker must still run and its log must hold no error line. The suite runs a short form; the long form is the
/// same test with QUILL_FUZZ_FRAMES set (scripts/fuzz.sh broker 1000000).
/// </summary>
public sealed class BrokerLiveFuzzTests(ITestOutputHelper output)
{
    private const int DefaultFrames = 20_000;
    private const int DefaultSeed = 20261203;
    private const int Workers = 3;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_broker_survives_mutated_requests_and_loses_and_stores_nothing_unreadable()
    {
        int totalFrames = EnvInt("QUILL_FUZZ_FRAMES", DefaultFrames);
        int seed = EnvInt("QUILL_FUZZ_SEED", DefaultSeed);
        int rounds = Math.Clamp(totalFrames / 1000, 1, 200);
        int perWorkerPerRound = (totalFrames + rounds * Workers - 1) / (rounds * Workers);
        var clock = Stopwatch.StartNew();

        string logFile = Path.Combine(Path.GetTempPath(), $"quill-broker-fuzz-{Guid.NewGuid():N}.log");
        await using var broker = await BrokerProcess.StartAsync(logFile);
        string topic = "fuzz", compacted = "fuzz-compacted", ledger = "ledger";
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 2);
        await Clients.CreateTopicAsync(broker.BootstrapServers, compacted, 1, new() { ["cleanup.policy"] = "compact" });
        await Clients.CreateTopicAsync(broker.BootstrapServers, ledger, 1);
        using var checker = new Checker(broker.BootstrapServers, ledger, [topic, compacted]);
        var seeds = BrokerFuzzSeeds.Requests(topic, compacted);
        var workers = Enumerable.Range(0, Workers).Select(i => new Worker(seeds, seed + 7919 * i)).ToList();
        string Context() => $"seed {seed}, after {workers.Sum(w => w.Frames)} frames\n{broker.Diagnostics()}";

        try
        {
            for (int round = 1; round <= rounds; round++)
            {
                try
                {
                    await Task.WhenAll(workers.Select(w => w.RunAsync(broker.KafkaPort, perWorkerPerRound)));
                }
                catch (TimeoutException e)
                {
                    Assert.Fail($"round {round}: the broker hangs: {e.Message}\n{Context()}");
                }
                Assert.True(broker.IsRunning, $"round {round}: the broker is no longer running\n{Context()}");
                string? problem = await Task.Run(() => checker.Round(round));
                Assert.True(problem is null, $"round {round}: {problem}\n{Context()}");
            }

            var (problems, warnings) = ServerLogScan.Scan(logFile);
            Assert.True(problems.Count == 0, $"the broker logged errors:\n{string.Join('\n', problems)}\n{Context()}");
            output.WriteLine($"{workers.Sum(w => w.Frames)} frames over {workers.Sum(w => w.Connections)} connections " +
                $"({workers.Sum(w => w.ClosedEarly)} closed by the broker before their last frame) in {rounds} rounds, " +
                $"{clock.Elapsed.TotalSeconds:F1} s, seed {seed}; checker: {checker.Summary}; {warnings.Values.Sum()} warnings in the log, most often:");
            foreach (var (kind, count) in warnings.OrderByDescending(w => w.Value).Take(12)) output.WriteLine($"  {count,8}  {kind}");
            output.WriteLine("mutations: " + string.Join(", ", workers.SelectMany(w => w.Counts).GroupBy(c => c.Key).Select(g => $"{g.Key} {g.Sum(c => c.Value)}")));
            // The fuzzing must have reached the record decoding: some mutated batches were stored, many refused.
            Assert.True(checker.FuzzRecordsRead > 0, "no record of the fuzzer's was stored: the fuzzing never got past the request decoding");
        }
        finally
        {
            File.Delete(logFile);
        }
    }

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) && value > 0 ? value : fallback;

    /// <summary>One fuzzing connection after another, each a burst of mutated requests and a valid one at the end.</summary>
    private sealed class Worker(IReadOnlyList<KafkaSeed> seeds, int seed)
    {
        // The first 8 bytes (API key, version, correlation id) are mutated seldom: a bad key or version rightly ends
        // the connection, and nothing behind it is read.
        private readonly FrameMutator _mutator = new(seeds.Select(s => s.Payload).ToList(), seed, headerLength: 8, headerMutationShare: 0.03);
        private readonly byte[] _end = BrokerFuzzSeeds.EndFrame();
        private static readonly byte[] EndMarker = [0x51, 0x51, 0x51, 0x51];

        public long Frames { get; private set; }
        public long Connections { get; private set; }
        public long ClosedEarly { get; private set; }
        public IEnumerable<KeyValuePair<Mutation, long>> Counts => _mutator.Counts;

        public async Task RunAsync(int port, int frames)
        {
            var rng = _mutator.Random;
            int refusedInARow = 0;
            while (frames > 0)
            {
                var chunks = new List<byte[]>();
                var framesInChunk = new List<int>();
                int planned = Math.Min(frames, 1 + rng.Next(rng.Next(4) == 0 ? 120 : 25));
                while (planned > 0)
                {
                    int n = Math.Min(planned, 1 + rng.Next(16));
                    var chunk = new List<byte>();
                    for (int i = 0; i < n; i++) chunk.AddRange(NextFrame(rng));
                    chunks.Add([.. chunk]);
                    framesInChunk.Add(n);
                    planned -= n;
                }
                chunks.Add(_end);
                framesInChunk.Add(1);
                var result = await FuzzConnection.RunAsync(port, chunks, Patience, EndMarker);
                int sent = framesInChunk.Take(result.ChunksSent).Sum();
                Connections++;
                Frames += sent;
                if (result.ClosedEarly) ClosedEarly++;
                // Only frames written count, so a long run really sends as many as asked; a server that takes none
                // for 100 connections in a row ends the run instead.
                frames -= sent;
                refusedInARow = sent == 0 ? refusedInARow + 1 : 0;
                if (refusedInARow >= 100) throw new TimeoutException("100 connections in a row took no frame");
            }
        }

        private byte[] NextFrame(Random rng)
        {
            var seed = seeds[rng.Next(seeds.Count)];
            if (rng.NextDouble() < 0.1) return _mutator.Frame(seed.Payload);
            var payload = _mutator.Mutate(seed.Payload);
            // A batch whose CRC no longer matches is refused before its records are looked at: re-sign most of them.
            if (seed.BatchAt >= 0 && payload.Length == seed.Payload.Length && rng.Next(4) != 0) Resign(payload, seed.BatchAt);
            return _mutator.Frame(payload);
        }

        private static void Resign(byte[] payload, int at)
        {
            if (at + BatchHeader.Size > payload.Length) return;
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(at + BatchHeader.BatchLengthOffset));
            int end = (int)Math.Clamp((long)at + BatchHeader.LogOverhead + length, at + BatchHeader.Size, payload.Length);
            var header = payload.AsSpan(at, BatchHeader.Size);
            BatchHeader.Sign(header, payload.AsSpan(at + BatchHeader.Size, end - at - BatchHeader.Size));
        }
    }

    /// <summary>
    /// The real client's view after each round: it writes records to its own ledger topic and finds every one it was
    /// acknowledged at its offset; it reads on through the fuzzed topics to their end (read_uncommitted, so a
    /// transaction the fuzzer left open does not hide anything); and it looks records up by time.
    /// </summary>
    private sealed class Checker : IDisposable
    {
        private readonly string _bootstrap, _ledger;
        private readonly IReadOnlyList<string> _fuzzTopics;
        private readonly IProducer<string, string> _producer;
        private readonly IConsumer<byte[], byte[]> _consumer;
        private readonly Dictionary<long, string> _acknowledged = [];
        private readonly Dictionary<TopicPartition, long> _readUpTo = [];

        public Checker(string bootstrap, string ledger, IReadOnlyList<string> fuzzTopics)
        {
            _bootstrap = bootstrap;
            _ledger = ledger;
            _fuzzTopics = fuzzTopics;
            _producer = Clients.Producer(bootstrap, c => c.LingerMs = 0);
            _consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
            {
                BootstrapServers = bootstrap,
                GroupId = "fuzz-checker",
                EnableAutoCommit = false,
                IsolationLevel = IsolationLevel.ReadUncommitted,
                AutoOffsetReset = AutoOffsetReset.Error,
                EnablePartitionEof = true,
            }).Build();
        }

        public long FuzzRecordsRead { get; private set; }
        public string Summary => $"{_acknowledged.Count} ledger records acknowledged and found, {FuzzRecordsRead} fuzzed records read";

        /// <summary>Null if all is well, else what went wrong.</summary>
        public string? Round(int round)
        {
            try
            {
                for (int i = 0; i < 5; i++)
                {
                    string value = $"round-{round}-{i}";
                    var result = _producer.ProduceAsync(_ledger, new Message<string, string> { Key = $"k{i}", Value = value }).GetAwaiter().GetResult();
                    _acknowledged[result.Offset.Value] = value;
                }
                var ledger = new TopicPartition(_ledger, 0);
                var found = ReadAll(ledger, 0, _acknowledged.Keys.Max() + 1).ToDictionary(r => r.Offset, r => Encoding.UTF8.GetString(r.Message.Value));
                foreach (var (offset, value) in _acknowledged)
                    if (!found.TryGetValue(offset, out var seen) || seen != value)
                        return $"ledger record {value} acknowledged at offset {offset} reads back as {seen ?? "nothing"}";

                using var admin = Clients.Admin(_bootstrap);
                foreach (string topic in _fuzzTopics)
                {
                    var partitions = admin.GetMetadata(topic, Clients.Timeout).Topics[0].Partitions.Select(p => new TopicPartition(topic, p.PartitionId));
                    foreach (var tp in partitions)
                    {
                        long end = _consumer.QueryWatermarkOffsets(tp, Clients.Timeout).High.Value;
                        long from = _readUpTo.GetValueOrDefault(tp);
                        FuzzRecordsRead += ReadAll(tp, from, end).Count;
                        _readUpTo[tp] = end;
                        _consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(1_700_000_000_000, Confluent.Kafka.TimestampType.CreateTime))], Clients.Timeout);
                    }
                }
                return null;
            }
            catch (Exception e) when (e is KafkaException or TimeoutException)
            {
                return $"the client failed: {e.GetType().Name}: {e.Message}";
            }
        }

        /// <summary>Every record in [from, end) of one partition; throws if the client cannot read them all.</summary>
        private List<ConsumeResult<byte[], byte[]>> ReadAll(TopicPartition tp, long from, long end)
        {
            var results = new List<ConsumeResult<byte[], byte[]>>();
            if (from >= end) return results;
            _consumer.Assign(new TopicPartitionOffset(tp, from));
            var deadline = DateTime.UtcNow + Clients.Timeout;
            long position = from;
            while (position < end)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{tp}: read up to {position} of [{from}, {end}) within {Clients.Timeout}");
                var result = _consumer.Consume(TimeSpan.FromMilliseconds(500));
                if (result is null) continue;
                if (result.IsPartitionEOF)
                {
                    position = Math.Max(position, result.Offset.Value);
                    if (position < end) continue;
                    break;
                }
                results.Add(result);
                position = result.Offset.Value + 1;
            }
            _consumer.Unassign();
            return results;
        }

        public void Dispose()
        {
            _producer.Dispose();
            _consumer.Close();
            _consumer.Dispose();
        }
    }
}
