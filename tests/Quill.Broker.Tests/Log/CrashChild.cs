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
/// (A separate console project would be tidier; it would need a project reference in the test csproj, which
/// this task does not own.)
/// </summary>
internal static class CrashChild
{
    public const string EnvironmentVariable = "QUILL_LOG_CRASH_CHILD";

#pragma warning disable CA2255 // a module initializer in a test assembly, deliberately
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RunIfChild()
    {
        string? dir = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(dir)) return;
        var config = new LogConfig { FlushMessages = 1, SegmentBytes = 16 * 1024, IndexIntervalBytes = 512 };
        var manager = new LogManager(dir, config);
        var log = manager.GetOrCreate("crash", 0);
        var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
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
}
