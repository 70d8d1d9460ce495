using Quill.Testing;

namespace Quill.Tools.Tests;

/// <summary>Runs `dotnet quill.dll ...` as a process, as a user would.</summary>
public static class QuillTool
{
    private static readonly IReadOnlyDictionary<string, string> Environment = new Dictionary<string, string>
    {
        ["DOTNET_NOLOGO"] = "1",
    };

    public static Task<ToolResult> RunAsync(params string[] args) => RunAsync(args, null);

    public static Task<ToolResult> RunAsync(IEnumerable<string> args, string? stdin, TimeSpan? timeout = null) =>
        ToolRunner.RunAsync(Dotnet, [KeeperProcess.QuillDll, .. args], stdin, timeout ?? TimeSpan.FromSeconds(120), Environment);

    /// <summary>Non-empty stdout lines.</summary>
    public static string[] Lines(this ToolResult result) =>
        result.StdOut.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();

    /// <summary>The dotnet that runs the tests runs quill too.</summary>
    private static string Dotnet =>
        System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
