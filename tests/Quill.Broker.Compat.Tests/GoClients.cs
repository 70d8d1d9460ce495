using System.Text.Json;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// The Go clients of tests/go (saramaclient on sarama 1.22.1, kafkagoclient on kafka-go 0.2.1), built once with
/// Debian's Go toolchain and Go library packages in GOPATH mode, offline (no Go modules, no network).
/// </summary>
public static class GoClients
{
    public const string Install =
        "apt-get install golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev gcc";

    private const string GoCode = "/usr/share/gocode";

    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private static (string Sarama, string KafkaGo)? _built;

    /// <summary>Builds both programs (once per test run) and returns their paths; throws with what to install when
    /// Go or the libraries are missing, and with the compiler output when the build fails.</summary>
    public static async Task<(string Sarama, string KafkaGo)> BuildAsync()
    {
        await BuildLock.WaitAsync();
        try
        {
            return _built ??= await BuildOnceAsync();
        }
        finally
        {
            BuildLock.Release();
        }
    }

    private static async Task<(string, string)> BuildOnceAsync()
    {
        string? go = FindGo();
        if (go is null) throw new InvalidOperationException($"the Go toolchain (go) is not installed: {Install}");
        foreach (string library in new[] { "github.com/Shopify/sarama", "github.com/segmentio/kafka-go" })
            if (!Directory.Exists(Path.Combine(GoCode, "src", library)))
                throw new InvalidOperationException($"{GoCode}/src/{library} not found: {Install}");
        string sources = ToolClientTests.FindUp("tests/go/src/quillcompat")
                         ?? throw new InvalidOperationException("tests/go/src/quillcompat not found above " + AppContext.BaseDirectory);
        string goPath = Path.GetFullPath(Path.Combine(sources, "..", ".."));

        string output = Path.Combine(Path.GetTempPath(), "quill-go-clients-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(output);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(output, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        var environment = Environment(goPath);
        var built = new List<string>();
        foreach (string program in new[] { "saramaclient", "kafkagoclient" })
        {
            string binary = Path.Combine(output, program);
            var build = await ToolRunner.RunAsync(go, ["build", "-o", binary, $"quillcompat/{program}"],
                timeout: TimeSpan.FromMinutes(5), environment: environment, workingDirectory: goPath);
            if (!build.Succeeded || !File.Exists(binary))
                throw new InvalidOperationException(
                    $"building {program} failed ({Install}; cgo needs gcc for sarama's zstd)\n{build}\nenvironment: " +
                    string.Join(' ', environment.Select(e => $"{e.Key}={e.Value}")));
            built.Add(binary);
        }
        return (built[0], built[1]);
    }

    /// <summary>GOPATH mode over the repository's tests/go and Debian's /usr/share/gocode, no module proxy, a build
    /// cache kept in the temp directory between runs, cgo on (sarama's zstd is DataDog/zstd over libzstd).</summary>
    public static Dictionary<string, string> Environment(string goPath) => new()
    {
        ["GO111MODULE"] = "off",
        ["GOPATH"] = $"{goPath}:{GoCode}",
        ["GOFLAGS"] = "",
        ["GOPROXY"] = "off",
        ["GOENV"] = "off",
        ["GOTOOLCHAIN"] = "local",
        ["GOCACHE"] = Path.Combine(Path.GetTempPath(), "quill-go-build-cache"),
        ["CGO_ENABLED"] = "1",
        // DataDog/zstd 1.4.5 calls ZSTD_getDecompressedSize, deprecated in the libzstd headers: a warning on every build.
        ["CGO_CFLAGS"] = "-O2 -g -Wno-deprecated-declarations",
    };

    private static string? FindGo()
    {
        foreach (string dir in (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                     .Append("/usr/bin").Append("/usr/lib/go/bin"))
        {
            string candidate = Path.Combine(dir, "go");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>
    /// Runs one action of a Go client and returns the JSON object it printed last. The program gets
    /// <c>-timeout</c> seconds (its own deadline); the process is killed a little after that.
    /// </summary>
    public static async Task<GoRun> RunAsync(string binary, string command, TimeSpan timeout, params string[] args)
    {
        int seconds = Math.Max(5, (int)timeout.TotalSeconds);
        var run = await ToolRunner.RunAsync(binary, new[] { command }.Concat(args).Concat(["-timeout", $"{seconds}"]),
            timeout: TimeSpan.FromSeconds(seconds + 15));
        string last = run.StdOut.Trim().Split('\n')[^1];
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(last);
            root = doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"{Path.GetFileName(binary)} {command} printed no JSON result\n{run}");
        }
        return new GoRun(run, root);
    }
}

/// <summary>One Go client action: the process (for failure messages) and its JSON result.</summary>
public sealed record GoRun(ToolResult Process, JsonElement Result)
{
    public string? Error => Result.TryGetProperty("error", out var e) ? e.GetString() : null;

    /// <summary>The Kafka error code the action failed with, if it failed with one.</summary>
    public int? KafkaError => Result.TryGetProperty("kerror", out var e) ? e.GetInt32() : null;

    public IReadOnlyList<GoRecord> Records(string property) =>
        Result.GetProperty(property).EnumerateArray().Select(r => new GoRecord(
            r.GetProperty("partition").GetInt32(), r.GetProperty("offset").GetInt64(), r.GetProperty("key").GetString()!,
            r.GetProperty("value").GetString()!, r.GetProperty("ts").GetInt64())).ToList();

    public override string ToString() => Process.ToString();
}

/// <summary>A record as a Go client produced or consumed it (timestamp -1: none).</summary>
public sealed record GoRecord(int Partition, long Offset, string Key, string Value, long Timestamp);
