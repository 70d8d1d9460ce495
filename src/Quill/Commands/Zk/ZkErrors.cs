using Quill.Keeper.Protocol;

namespace Quill.Commands.Zk;

/// <summary>The error text zkCli (3.8) prints for a failed operation, and its path checks.</summary>
public static class ZkErrors
{
    /// <summary>What zkCli prints when a command fails with <paramref name="e"/> ("Node does not exist: /a", ...).</summary>
    public static string Message(KeeperException e)
    {
        string path = e.Path ?? "null";
        return e.Code switch
        {
            ErrorCode.NoNode => $"Node does not exist: {path}",
            ErrorCode.NoChildrenForEphemerals => $"Ephemerals cannot have children: {path}",
            ErrorCode.NodeExists => $"Node already exists: {path}",
            ErrorCode.NotEmpty => $"Node not empty: {path}",
            ErrorCode.NotReadOnly => $"Not a read-only call: {path}",
            ErrorCode.InvalidAcl => $"Acl is not valid : {path}",
            ErrorCode.NoAuth => $"Insufficient permission : {path}",
            ErrorCode.BadArguments => $"Arguments are not valid : {path}",
            ErrorCode.BadVersion => $"version No is not valid : {path}",
            ErrorCode.QuotaExceeded => $"Quota has exceeded : {path}",
            ErrorCode.ReconfigInProgress => "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)",
            _ => JavaMessage(e.Code, e.Path),
        };
    }

    /// <summary>KeeperException.getMessage(): "KeeperErrorCode = NoNode for /a".</summary>
    public static string JavaMessage(ErrorCode code, string? path) =>
        string.IsNullOrEmpty(path) ? $"KeeperErrorCode = {CodeText(code)}" : $"KeeperErrorCode = {CodeText(code)} for {path}";

    private static string CodeText(ErrorCode code) => code switch
    {
        ErrorCode.Ok => "ok",
        ErrorCode.UnknownSession => "Unknown session",
        ErrorCode.ApiError => "APIError",
        ErrorCode.InvalidAcl => "InvalidACL",
        ErrorCode.NotEmpty => "Directory not empty",
        ErrorCode.SessionExpired => "Session expired",
        ErrorCode.InvalidCallback => "Invalid callback",
        ErrorCode.SessionMoved => "Session moved",
        ErrorCode.NotReadOnly => "Not a read-only call",
        ErrorCode.EphemeralOnLocalSession => "Ephemeral node on local session",
        ErrorCode.NoWatcher => "No such watcher",
        ErrorCode.ReconfigDisabled => "Reconfig is disabled",
        ErrorCode.SessionClosedRequireSaslAuth => "Session closed because client failed to authenticate",
        ErrorCode.QuotaExceeded => "Quota has exceeded",
        ErrorCode.Throttled => "Op throttled due to high load",
        ErrorCode.RequestTimeout => "Request timeout",
        _ when Enum.IsDefined(code) => code.ToString(),
        _ => $"Unknown error {(int)code}",
    };

    /// <summary>
    /// Checks a path as the Java client does before sending, failing with its message: the first rules read
    /// "Path must start with / character", the others "Invalid path string "/a//b" caused by empty node name ...".
    /// </summary>
    public static void CheckPath(string path, bool isSequential = false)
    {
        if (PathUtils.Validate(path, isSequential) is not { } reason) return;
        bool plain = reason.StartsWith("Path ", StringComparison.Ordinal);
        throw new CliException(plain ? reason : $"Invalid path string \"{path}\" caused by {reason}");
    }
}
