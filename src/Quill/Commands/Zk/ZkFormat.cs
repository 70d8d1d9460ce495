using System.Globalization;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Commands.Zk;

/// <summary>How zkCli prints things: stats, dates, lists, watch events. Scripts parse this text, so it is exact.</summary>
public static class ZkFormat
{
    /// <summary>The eleven "name = value" lines of zkCli's StatPrinter.</summary>
    public static IEnumerable<string> StatLines(Stat stat)
    {
        yield return $"cZxid = 0x{stat.Czxid:x}";
        yield return $"ctime = {JavaDate(stat.Ctime)}";
        yield return $"mZxid = 0x{stat.Mzxid:x}";
        yield return $"mtime = {JavaDate(stat.Mtime)}";
        yield return $"pZxid = 0x{stat.Pzxid:x}";
        yield return $"cversion = {stat.Cversion}";
        yield return $"dataVersion = {stat.Version}";
        yield return $"aclVersion = {stat.Aversion}";
        yield return $"ephemeralOwner = 0x{stat.EphemeralOwner:x}";
        yield return $"dataLength = {stat.DataLength}";
        yield return $"numChildren = {stat.NumChildren}";
    }

    /// <summary>
    /// java.util.Date.toString(): "Mon Nov 23 13:10:37 UTC 2026" in the local time zone. Java prints a zone
    /// abbreviation (CET, PST) that .NET cannot look up; outside UTC/GMT this prints Java's fallback "GMT+01:00".
    /// </summary>
    public static string JavaDate(long epochMillis)
    {
        var local = TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(epochMillis), TimeZoneInfo.Local);
        return local.ToString("ddd MMM dd HH:mm:ss ", CultureInfo.InvariantCulture) + ZoneName(local.Offset)
               + local.ToString(" yyyy", CultureInfo.InvariantCulture);
    }

    private static string ZoneName(TimeSpan offset)
    {
        string id = TimeZoneInfo.Local.Id;
        if (offset == TimeSpan.Zero)
        {
            bool gmt = id.Contains("GMT", StringComparison.OrdinalIgnoreCase) || id.Contains("London", StringComparison.Ordinal)
                       || id.Contains("Greenwich", StringComparison.Ordinal);
            return gmt ? "GMT" : "UTC";
        }
        char sign = offset < TimeSpan.Zero ? '-' : '+';
        return $"GMT{sign}{offset.Duration():hh\\:mm}";
    }

    /// <summary>java.util.List.toString(): "[a, b]".</summary>
    public static string JavaList(IEnumerable<string> items) => "[" + string.Join(", ", items) + "]";

    /// <summary>WatchedEvent.toString() in ZooKeeper 3.8: "WatchedEvent state:SyncConnected type:NodeCreated path:/a".</summary>
    public static string Event(KeeperState state, EventType type, string? path) =>
        $"WatchedEvent state:{state} type:{type} path:{(string.IsNullOrEmpty(path) ? "null" : path)}";

    public static string Event(WatchedEvent e) => Event(e.State, e.Type, e.Path);

    /// <summary>The Watcher.Event.KeeperState a session state change is reported as.</summary>
    public static KeeperState ToKeeperState(SessionState state) => state switch
    {
        SessionState.Connected => KeeperState.SyncConnected,
        SessionState.ConnectedReadOnly => KeeperState.ConnectedReadOnly,
        SessionState.Disconnected => KeeperState.Disconnected,
        SessionState.Expired => KeeperState.Expired,
        SessionState.AuthFailed => KeeperState.AuthFailed,
        _ => KeeperState.Closed,
    };

    /// <summary>ZooKeeper.States as the prompt shows it: "[zk: host:port(CONNECTED) 0] ".</summary>
    public static string PromptState(SessionState? state) => state switch
    {
        SessionState.Connected => "CONNECTED",
        SessionState.ConnectedReadOnly => "CONNECTEDREADONLY",
        SessionState.Disconnected => "CONNECTING",
        SessionState.AuthFailed => "AUTH_FAILED",
        _ => "CLOSED",
    };
}
