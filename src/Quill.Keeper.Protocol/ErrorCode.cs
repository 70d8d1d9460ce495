namespace Quill.Keeper.Protocol;

/// <summary>ZooKeeper's error codes (KeeperException.Code), as they travel in a reply header.</summary>
public enum ErrorCode
{
    Ok = 0,
    SystemError = -1,
    RuntimeInconsistency = -2,
    DataInconsistency = -3,
    ConnectionLoss = -4,
    MarshallingError = -5,
    Unimplemented = -6,
    OperationTimeout = -7,
    BadArguments = -8,
    UnknownSession = -12,
    NewConfigNoQuorum = -13,
    ReconfigInProgress = -14,
    ApiError = -100,
    NoNode = -101,
    NoAuth = -102,
    BadVersion = -103,
    NoChildrenForEphemerals = -108,
    NodeExists = -110,
    NotEmpty = -111,
    SessionExpired = -112,
    InvalidCallback = -113,
    InvalidAcl = -114,
    AuthFailed = -115,
    SessionMoved = -118,
    NotReadOnly = -119,
    EphemeralOnLocalSession = -120,
    NoWatcher = -121,
    RequestTimeout = -122,
    ReconfigDisabled = -123,
    SessionClosedRequireSaslAuth = -124,
    QuotaExceeded = -125,
    Throttled = -127,
}

/// <summary>An operation failed with a ZooKeeper error code.</summary>
public class KeeperException(ErrorCode code, string? path = null)
    : Exception(path is null ? $"KeeperErrorCode = {code}" : $"KeeperErrorCode = {code} for {path}")
{
    public ErrorCode Code { get; } = code;
    public string? Path { get; } = path;
}
