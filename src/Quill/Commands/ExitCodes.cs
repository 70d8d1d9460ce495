namespace Quill.Commands;

/// <summary>Exit codes scripts can rely on.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The command ran and failed (server error, operation refused).</summary>
    public const int Failed = 1;
    /// <summary>Bad usage or configuration: nothing was started.</summary>
    public const int BadConfig = 2;
}
