using System.Security.Cryptography;

namespace Quill.Keeper.Sessions;

/// <summary>
/// Live sessions, their passwords and expiry deadlines. Owned by the request processor's thread; time comes from a
/// <see cref="TimeProvider"/> so tests can drive expiry.
/// Session ids follow ZooKeeper's layout (server id in the top byte, start time and a counter below) so ids stay
/// unique across restarts. Passwords are derived from the id with a per-data-directory secret, so a restarted server
/// can check the password of a session it recovered from disk without ever having written the password down.
/// </summary>
public sealed class SessionTracker(TimeProvider time, byte[] secret, long serverId = 0)
{
    private byte[] _secret = secret;
    /// <summary>Sessions touched since <see cref="DrainTouched"/>, when this server reports them to a leader.</summary>
    private HashSet<long>? _touched;
    private readonly Dictionary<long, Session> _sessions = [];
    private long _nextId = InitialId(serverId, time.GetUtcNow().ToUnixTimeMilliseconds());

    public int Count => _sessions.Count;
    public IEnumerable<Session> All => _sessions.Values;

    private static long InitialId(long serverId, long nowMs) => (long)((ulong)(nowMs << 24) >> 8) | (serverId << 56);

    public long NextId() => _nextId++;

    public byte[] PasswordFor(long sessionId)
    {
        Span<byte> id = stackalloc byte[8];
        BitConverter.TryWriteBytes(id, sessionId);
        return HMACSHA256.HashData(_secret, id)[..16];
    }

    public Session? Get(long id) => _sessions.GetValueOrDefault(id);

    public Session Add(long id, int timeoutMs)
    {
        var s = new Session(id, timeoutMs, PasswordFor(id));
        _sessions[id] = s;
        Touch(s);
        return s;
    }

    public void Remove(long id) => _sessions.Remove(id);

    public void Touch(Session s)
    {
        s.ExpiresAt = time.GetUtcNow().ToUnixTimeMilliseconds() + s.TimeoutMs;
        _touched?.Add(s.Id);
    }

    /// <summary>Gives every session a full timeout from now (a new leader does this: it has not been watching them).</summary>
    public void TouchAll()
    {
        foreach (var s in _sessions.Values) Touch(s);
    }

    /// <summary>A follower keeps sessions alive for the leader: touches are remembered until the next ping takes them.</summary>
    public void TrackTouches() => _touched ??= [];

    public List<(long Id, int TimeoutMs)> DrainTouched()
    {
        var list = new List<(long, int)>();
        if (_touched is null) return list;
        foreach (var id in _touched)
            if (_sessions.TryGetValue(id, out var s)) list.Add((id, s.TimeoutMs));
        _touched.Clear();
        return list;
    }

    /// <summary>
    /// Takes the ensemble's secret (from the leader), so that any server can check any session's password; the
    /// passwords of known sessions are derived again from it.
    /// </summary>
    public void AdoptSecret(byte[] secret)
    {
        _secret = secret;
        foreach (var s in _sessions.Values) s.Password = PasswordFor(s.Id);
    }

    public byte[] Secret => _secret;

    /// <summary>
    /// After a term of an ensemble member ends: requests in flight belonged to the old term's pipeline and their
    /// connections are closed; a session whose createSession was never committed does not exist.
    /// </summary>
    public void ResetAfterTerm()
    {
        foreach (var s in _sessions.Values.ToList())
        {
            if (s.Creating)
            {
                _sessions.Remove(s.Id);
                continue;
            }
            s.Queue.Clear();
            s.Connection = null;
            s.Closing = false;
        }
        _touched?.Clear();
    }

    public List<Session> Expired()
    {
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var expired = new List<Session>();
        foreach (var s in _sessions.Values)
            if (!s.Closing && s.ExpiresAt <= now) expired.Add(s);
        return expired;
    }

    public bool PasswordMatches(Session s, ReadOnlySpan<byte> password) =>
        CryptographicOperations.FixedTimeEquals(s.Password, password);
}
