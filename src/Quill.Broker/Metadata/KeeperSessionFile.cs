using System.Globalization;

namespace Quill.Broker.Metadata;

/// <summary>
/// The broker's Keeper session (id and password) saved in its first log dir while it runs. After a crash (kill -9)
/// the restarted broker re-attaches to that session if it has not expired yet, so its ephemeral registration is
/// still its own and it need not wait out the session timeout. Deleted on clean shutdown (the session is closed then).
/// </summary>
public static class KeeperSessionFile
{
    public const string FileName = ".keeper-session";

    public static (long SessionId, byte[] Password)? Read(string logDir)
    {
        string path = Path.Combine(logDir, FileName);
        try
        {
            var parts = File.ReadAllText(path).Trim().Split(' ');
            if (parts.Length != 2) return null;
            return (long.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), Convert.FromHexString(parts[1]));
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static void Write(string logDir, long sessionId, byte[] password)
    {
        Directory.CreateDirectory(logDir);
        string path = Path.Combine(logDir, FileName);
        File.WriteAllText(path + ".tmp", $"{sessionId:x} {Convert.ToHexString(password)}\n");
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public static void Delete(string logDir) => File.Delete(Path.Combine(logDir, FileName));
}
