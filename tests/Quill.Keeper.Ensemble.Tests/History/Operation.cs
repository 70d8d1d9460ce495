namespace Quill.Keeper.Ensemble.Tests.History;

/// <summary>How an operation ended: <see cref="Ok"/> it happened, <see cref="Fail"/> it certainly did not,
/// <see cref="Info"/> unknown (connection loss, timeout, or no completion recorded): it may take effect at any time
/// after its invocation, or never.</summary>
public enum Outcome { Ok, Fail, Info }

/// <summary>
/// One operation of a history: an invocation and its completion joined. <see cref="Value"/> and
/// <see cref="Version"/> are what the completion carried when it did (a read's value and version, the version a write
/// produced, a sequential node's name), else what the invocation carried (the value written, a cas's expected
/// version, which stays in <see cref="ExpectedVersion"/>). <see cref="CompletedNs"/> is null for an open-ended op.
/// </summary>
public sealed record Operation(
    int Id,
    long Process,
    string F,
    string? Key,
    Outcome Outcome,
    string? Value,
    long? Version,
    long? ExpectedVersion,
    IReadOnlyList<string>? Names,
    long InvokedNs,
    long? CompletedNs)
{
    public bool IsFinal => Process >= HistoryFile.FinalProcessBase;

    public override string ToString()
    {
        string what = F switch
        {
            "read" => Outcome == Outcome.Ok ? $"read {Key} -> \"{Value}\" v{Version}" : $"read {Key}",
            "write" => $"write {Key} \"{Value}\"{(Version is { } v ? $" -> v{v}" : "")}",
            "cas" => $"cas {Key} if v{ExpectedVersion} \"{Value}\"{(Outcome == Outcome.Ok ? $" -> v{Version}" : "")}",
            "list" => $"list {Key} -> [{Names?.Count} names]",
            _ => $"{F} {Key}{(Value is null ? "" : $" -> {Value}")}",
        };
        string when = CompletedNs is { } done ? $"{Ms(InvokedNs)}..{Ms(done)} ms" : $"{Ms(InvokedNs)}.. ms";
        return $"#{Id} p{Process} {what} {Outcome.ToString().ToLowerInvariant()} [{when}]";
    }

    /// <summary>Milliseconds since the history began.</summary>
    private static string Ms(long ns) => (ns / 1_000_000.0).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
}
