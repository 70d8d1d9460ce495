using System.Runtime.CompilerServices;
using System.Text;
using Quill.Broker.Log;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Log;

/// <summary>
/// The child process of <see cref="KillNineTests"/>. The test runs this very assembly (<c>dotnet exec
/// Quill.Broker.Tests.dll</c>) with <c>QUILL_LOG_CRASH_CHILD</c> set; this module initializer then takes over before
/// the (empty) generated Main: it appends to a log with flush.messages=1 and prints "offset value" for every
/// acknowledged append until it is killed. In the test host the variable is unset and this does nothing.
/// With <c>QUILL_LOG_CRASH_CHILD_MODE=txn</c> it writes interleaved transactions instead (<see cref="RunTransactions"/>).
/// (A separate console project would be tidier; it would need a project reference in the test csproj, which
/// this task does not own.)
/// </summary>
internal static class CrashChild
{
    public const string EnvironmentVariable = "QUILL_LOG_CRASH_CHILD";
    public const string ModeVariable = "QUILL_LOG_CRASH_CHILD_MODE";

#pragma warning disable CA2255 // a module initializer in a test assembly, deliberately
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RunIfChild()
    {
        string? dir = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(dir)) return;
        var config = new LogConfig { FlushMessages = 1, SegmentBytes = 16 * 1024, IndexIntervalBytes = 512 };
        var manager = new LogManager(dir, config);
        var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        if (Environment.GetEnvironmentVariable(ModeVariable) == "txn")
        {
            RunTransactions(manager.GetOrCreate("txn", 0), stdout);
            return;
        }
        var log = manager.GetOrCreate("crash", 0);
        stdout.WriteLine("ready");
        for (int i = 0; ; i++)
        {
            var builder = new RecordBatchBuilder(i % 3 == 0 ? CompressionType.Lz4 : CompressionType.None);
            int count = 1 + i % 3;
            var values = new List<string>();
            for (int j = 0; j < count; j++)
            {
                string value = $"value-{i}-{j}-" + new string('x', i % 50);
                values.Add(value);
                builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Encoding.UTF8.GetBytes($"key-{i}"), Encoding.UTF8.GetBytes(value));
            }
            var info = log.Append(builder.Build());
            // Acknowledged only now: flush.messages=1 fsynced the append before Append returned.
            for (int j = 0; j < count; j++) stdout.WriteLine($"{info.FirstOffset + j} {values[j]}");
        }
    }

    public const int TxnProducers = 3;
    public const long FirstTxnProducerId = 1000;

    /// <summary>
    /// Three producers, interleaved so several transactions are open at once, each transaction two batches and
    /// then a marker, committing and aborting in turn. Prints "d offset value" for each acknowledged record and
    /// "m offset C|A producerId" for each acknowledged marker. Each run uses the next producer epoch (a new epoch
    /// starts at sequence 0, and may join a transaction the previous run left open, as in Kafka).
    /// </summary>
    private static void RunTransactions(PartitionLog log, StreamWriter stdout)
    {
        var epochs = new short[TxnProducers];
        var sequences = new int[TxnProducers];
        var steps = new int[TxnProducers];
        for (int p = 0; p < TxnProducers; p++) epochs[p] = (short)((log.ProducerState.Get(FirstTxnProducerId + p)?.Epoch ?? -1) + 1);
        stdout.WriteLine("ready");
        for (int i = 0; ; i++)
        {
            int p = i % TxnProducers;
            long pid = FirstTxnProducerId + p;
            int step = steps[p]++;
            if (step % 3 == 2)
            {
                bool commit = step / 3 % 2 == 0;
                long offset = log.AppendControlMarker(pid, epochs[p], commit, coordinatorEpoch: 0);
                stdout.WriteLine($"m {offset} {(commit ? 'C' : 'A')} {pid}");
                continue;
            }
            var builder = new RecordBatchBuilder { ProducerId = pid, ProducerEpoch = epochs[p], BaseSequence = sequences[p], IsTransactional = true };
            int count = 1 + i % 2;
            var values = new List<string>();
            for (int j = 0; j < count; j++)
            {
                string value = $"p{pid}-e{epochs[p]}-s{sequences[p] + j}-" + new string('t', i % 40);
                values.Add(value);
                builder.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Encoding.UTF8.GetBytes($"key-{i}"), Encoding.UTF8.GetBytes(value));
            }
            var info = log.Append(builder.Build());
            sequences[p] += count;
            for (int j = 0; j < count; j++) stdout.WriteLine($"d {info.FirstOffset + j} {values[j]}");
        }
    }
}
