using Xunit.Abstractions;

namespace Quill.Streams.Tests;

/// <summary>
/// The seed of a crash test's random choices (kill points, delays, input): a new one each run, unless the environment
/// variable <see cref="Variable"/> fixes it. It is written to the test's output first, and a failure's message starts
/// with it (see <see cref="RunAsync"/>), so that a failed run can be replayed with the same kill points.
/// </summary>
internal sealed class CrashSeed
{
    public CrashSeed(string variable, ITestOutputHelper log)
    {
        Variable = variable;
        bool fixedSeed = int.TryParse(Environment.GetEnvironmentVariable(variable), out int seed);
        Value = fixedSeed ? seed : Random.Shared.Next();
        log.WriteLine($"{this}{(fixedSeed ? " (fixed by the environment)" : " (random)")}");
    }

    public string Variable { get; }

    public int Value { get; }

    public override string ToString() => $"seed {Value} ({Variable}={Value} replays it)";

    /// <summary>Runs the test's body; any failure is rethrown with the seed in front of its message (the original inside).</summary>
    public async Task RunAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception e)
        {
            throw new CrashTestFailure($"{this}: {e.Message}", e);
        }
    }

    /// <summary>Positive integer <paramref name="variable"/> from the environment (a long form of a test), else <paramref name="defaultValue"/>.</summary>
    public static int Setting(string variable, int defaultValue) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), out int value) && value > 0 ? value : defaultValue;
}

/// <summary>A crash test's failure, its message prefixed with the seed that replays it.</summary>
internal sealed class CrashTestFailure(string message, Exception inner) : Exception(message, inner);
