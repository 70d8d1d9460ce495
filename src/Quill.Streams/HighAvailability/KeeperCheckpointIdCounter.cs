using System.Globalization;
using System.Text;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.HighAvailability;

/// <summary>
/// The job's checkpoint ids in Keeper (Flink's ZooKeeperCheckpointIDCounter): <see cref="HaPaths.Counter"/> holds the
/// next id as decimal text; the leader takes one by a setData conditional on the version it last saw, in a multi with
/// its fence, so two instances never use the same id and a deposed leader cannot take one. A version it did not expect
/// means another instance wrote the counter: this one is not the leader any more, and fails.
/// </summary>
internal sealed class KeeperCheckpointIdCounter : ICheckpointIdCounter
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly KeeperHaServices _ha;
    private readonly Lock _lock = new();
    private long _next;
    private int _version;

    private KeeperCheckpointIdCounter(KeeperHaServices ha) => _ha = ha;

    /// <summary>Reads (or creates) the counter; it is moved past <paramref name="atLeast"/> - 1 if it is behind (a counter lost or reset).</summary>
    public static async Task<KeeperCheckpointIdCounter> OpenAsync(KeeperHaServices ha, long atLeast, CancellationToken cancellationToken)
    {
        var counter = new KeeperCheckpointIdCounter(ha);
        string path = ha.Paths.Counter;
        var node = await KeeperRetry.IdempotentAsync(async () =>
        {
            try
            {
                await ha.Client.CreateAsync(path, Encode(Math.Max(1, atLeast)), cancellationToken: cancellationToken);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
            {
            }
            return await ha.Client.GetDataAsync(path, cancellationToken: cancellationToken);
        });
        counter._next = Decode(node.Data);
        counter._version = node.Stat.Version;
        if (counter._next < atLeast)
        {
            var stat = await ha.Client.SetDataAsync(path, Encode(atLeast), counter._version, cancellationToken);
            counter._next = atLeast;
            counter._version = stat.Version;
        }
        return counter;
    }

    public long Peek()
    {
        lock (_lock) return _next;
    }

    public long Next()
    {
        lock (_lock)
        {
            long id = _next;
            var until = DateTime.UtcNow + Timeout;
            while (true)
            {
                try
                {
                    var results = _ha.Client.MultiAsync([_ha.Fence(), Op.SetData(_ha.Paths.Counter, Encode(id + 1), _version)])
                        .WaitAsync(Timeout).GetAwaiter().GetResult();
                    _version = ((SetDataResult)results[1]).Stat.Version;
                    break;
                }
                catch (KeeperException e) when (e.Code == ErrorCode.ConnectionLoss)
                {
                    // The multi may have happened: the counter says whether it did (only this leader writes it). If it
                    // did not, it is tried again: a connection lost and regained within the session is not a reason to
                    // give up the lead (a busy machine drops a connection now and then).
                    var node = KeeperRetry.Idempotent(() => _ha.Client.GetDataAsync(_ha.Paths.Counter));
                    if (Decode(node.Data) == id + 1 && node.Stat.Version == _version + 1)
                    {
                        _version = node.Stat.Version;
                        break;
                    }
                    if (Decode(node.Data) != id || node.Stat.Version != _version || DateTime.UtcNow > until) throw;
                }
                catch (KeeperException e) when (e.Code == ErrorCode.BadVersion)
                {
                    throw new InvalidOperationException($"the checkpoint id counter {_ha.Paths.Counter} was changed by another instance: this one no longer leads", e);
                }
            }
            _next = id + 1;
            return id;
        }
    }

    private static byte[] Encode(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    private static long Decode(byte[] data) => long.Parse(Encoding.ASCII.GetString(data), CultureInfo.InvariantCulture);
}
