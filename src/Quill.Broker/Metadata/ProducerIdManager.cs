namespace Quill.Broker.Metadata;

/// <summary>
/// Hands out producer ids for InitProducerId from blocks reserved in Keeper (/latest_producer_id_block, as Kafka's
/// ZooKeeper mode does), so ids stay unique across restarts and brokers.
/// </summary>
public sealed class ProducerIdManager(KafkaZkClient zk, int brokerId, int blockSize = 1000)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private long _next;
    private long _end = -1; // exclusive

    public async Task<long> NextAsync(CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct);
        try
        {
            if (_next >= _end)
            {
                _next = await zk.AllocateProducerIdBlockAsync(brokerId, blockSize, ct);
                _end = _next + blockSize;
            }
            return _next++;
        }
        finally
        {
            _lock.Release();
        }
    }
}
