namespace Quill.Streams.Checkpoints;

/// <summary>
/// The names of a checkpoint's entries in the checkpoint directory, made and read back in one place: its file
/// <c>chk-&lt;id&gt;.json</c> (and <c>.json.tmp</c> while it is written) and the directory of its state files
/// <c>chk-&lt;id&gt;.state</c>. The id is zero-padded to 19 digits, so the names sort by id.
/// </summary>
internal static class CheckpointNames
{
    private const string Prefix = "chk-", FileSuffix = ".json", TempSuffix = ".json.tmp", StateSuffix = ".state";

    /// <summary>Patterns for directory listings: every checkpoint file; every state directory; every entry of either kind.</summary>
    public const string Files = Prefix + "*" + FileSuffix, StateDirectories = Prefix + "*" + StateSuffix, Any = Prefix + "*";

    public static string File(long id) => $"{Prefix}{id:D19}{FileSuffix}";

    /// <summary>The file's name while it is written, before the rename that completes it.</summary>
    public static string TempFile(long id) => File(id) + ".tmp";

    public static string StateDirectory(long id) => $"{Prefix}{id:D19}{StateSuffix}";

    /// <summary>The id in a name made by <see cref="File"/>, <see cref="TempFile"/> or <see cref="StateDirectory"/>; false for any other name.</summary>
    public static bool TryParse(string name, out long id)
    {
        id = -1;
        if (!name.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        string rest = name[Prefix.Length..];
        string digits = rest.EndsWith(TempSuffix, StringComparison.Ordinal) ? rest[..^TempSuffix.Length]
            : rest.EndsWith(FileSuffix, StringComparison.Ordinal) ? rest[..^FileSuffix.Length]
            : rest.EndsWith(StateSuffix, StringComparison.Ordinal) ? rest[..^StateSuffix.Length] : "";
        return digits.Length > 0 && digits.All(char.IsAsciiDigit) && long.TryParse(digits, out id);
    }
}
