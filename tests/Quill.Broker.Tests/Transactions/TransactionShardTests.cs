using Microsoft.Extensions.Logging.Abstractions;
using Quill.Broker.Groups;
using Quill.Broker.Log;
using Quill.Broker.Partitions;
using Quill.Broker.Tests.Log;
using Quill.Broker.Transactions;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Transactions;

/// <summary>The transaction coordinator's shards: each loads (replays its partition) and unloads on its own.</summary>
public sealed class TransactionShardTests : IAsyncLifetime
{
    private const int Partitions = 3;
    private readonly TempDir _dir = new();
    private readonly ReplicaManager _replicas;
    private readonly LogManager _stateLogs, _offsetsLogs;
    private readonly PartitionOffsetsLog _stateLog;
    private readonly GroupCoordinator _groups;
    private readonly TransactionCoordinator _coordinator;

    public TransactionShardTests()
    {
        var clock = FakeClocks.New();
        _replicas = new ReplicaManager([_dir.Path], LogConfig.Default, _ => LogConfig.Default, clock, NullLogger.Instance);
        _stateLogs = new LogManager(Path.Combine(_dir.Path, "state"), LogConfig.Default, clock);
        _stateLog = PartitionOffsetsLog.Open(_stateLogs, Partitions);
        _offsetsLogs = new LogManager(Path.Combine(_dir.Path, "offsets"), LogConfig.Default, clock);
        _groups = new GroupCoordinator(PartitionOffsetsLog.Open(_offsetsLogs, 1), time: clock);
        // Ids are written straight into the state log here, so no producer id block is ever asked of Keeper.
        _coordinator = new TransactionCoordinator(_stateLog, _replicas, _groups, producerIds: null!, new TransactionCoordinatorOptions(), clock,
            NullLogger.Instance);
    }

    private void Store(string transactionalId, long producerId, short epoch)
    {
        var txn = new TransactionMetadata(transactionalId) { ProducerId = producerId, ProducerEpoch = epoch, TimeoutMs = 60_000, LastUpdateTimestampMs = FakeClocks.StartMs };
        var batch = new RecordBatchBuilder().Add(FakeClocks.StartMs, TransactionLogRecords.KeyOf(transactionalId), TransactionLogRecords.ValueOf(txn)).Build();
        _stateLog.Append(TransactionStateTopic.PartitionFor(transactionalId, Partitions), batch);
    }

    [Fact]
    public async Task A_shard_unloaded_and_loaded_again_serves_the_same_transactions()
    {
        string id = "txn-a";
        string other = Enumerable.Range(0, 100).Select(i => $"txn-b{i}")
            .First(t => TransactionStateTopic.PartitionFor(t, Partitions) != TransactionStateTopic.PartitionFor(id, Partitions));
        Store(id, 1000, 3);
        Store(other, 2000, 0);
        await _coordinator.StartAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        var ct = CancellationToken.None;
        Assert.Equal(KafkaError.None, await _coordinator.AddPartitionsAsync(id, 1000, 3, [("t", 0)], ct));

        int partition = TransactionStateTopic.PartitionFor(id, Partitions);
        await _coordinator.UnloadShardAsync(partition).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(_coordinator.IsShardLoaded(partition));
        Assert.Equal(KafkaError.NotCoordinator, await _coordinator.EndTransactionAsync(id, 1000, 3, commit: true, ct));
        // Another shard carries on.
        Assert.Equal(KafkaError.None, await _coordinator.AddPartitionsAsync(other, 2000, 0, [("t", 1)], ct));

        await _coordinator.LoadShardAsync(partition).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(_coordinator.IsShardLoaded(partition));
        // The open transaction came back from the log: the same producer, epoch and state.
        Assert.Equal(KafkaError.ProducerFenced, await _coordinator.EndTransactionAsync(id, 1000, 2, commit: true, ct));
        Assert.Equal(KafkaError.None, await _coordinator.EndTransactionAsync(id, 1000, 3, commit: true, ct));
        Assert.Equal(KafkaError.None, await _coordinator.EndTransactionAsync(id, 1000, 3, commit: true, ct)); // a retry of a finished end
        Assert.Equal(KafkaError.InvalidTxnState, await _coordinator.EndTransactionAsync(id, 1000, 3, commit: false, ct));
    }

    public Task InitializeAsync() => _groups.StartAsync();

    public async Task DisposeAsync()
    {
        await _coordinator.DisposeAsync();
        await _groups.DisposeAsync();
        _stateLogs.Dispose();
        _offsetsLogs.Dispose();
        _replicas.Dispose();
        _dir.Dispose();
    }
}
