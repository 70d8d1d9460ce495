using Microsoft.Extensions.Logging;
using Quill.Broker.Groups;
using Quill.Broker.Log;
using Quill.Broker.Metadata;
using Quill.Broker.Partitions;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Transactions;

/// <summary>
/// Writes a transaction's COMMIT or ABORT markers into every partition it touched: into the partitions this broker
/// leads itself, and through WriteTxnMarkers to the leaders of the others (the same local write answers that request
/// on their side). A marker counts as written once the partition's high watermark covers it, so a leader that fails
/// over afterwards cannot lose it; a <c>__consumer_offsets</c> partition's group coordinator then keeps or drops the
/// transaction's offsets. Partitions whose leader is unknown, moving or unreachable are retried until written, until
/// their topic is gone, or until the caller gives up (its coordinator shard unloaded: the next coordinator finishes).
/// </summary>
public sealed class TransactionMarkerWriter : IAsyncDisposable
{
    private static readonly TimeSpan ReplicationTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RetryBackoff = TimeSpan.FromMilliseconds(200);
    private readonly ReplicaManager _replicas;
    private readonly GroupCoordinator _groups;
    private readonly MetadataCache? _metadata;
    private readonly TransactionMarkerChannel? _channel;
    private readonly int _brokerId;
    private readonly TimeProvider _time;
    private readonly ILogger _log;

    /// <param name="metadata">The cluster's metadata, to find the leaders of other partitions; null when this broker is alone (markers are written here only).</param>
    public TransactionMarkerWriter(ReplicaManager replicas, GroupCoordinator groups, MetadataCache? metadata, int brokerId, TimeProvider time, ILogger log)
    {
        _replicas = replicas;
        _groups = groups;
        _metadata = metadata;
        _brokerId = brokerId;
        _time = time;
        _log = log;
        if (metadata is not null) _channel = new TransactionMarkerChannel(metadata, brokerId, log);
    }

    /// <summary>
    /// Writes one marker into a partition this broker leads and waits until it is replicated; NONE, or the error that
    /// stopped it (NOT_LEADER_OR_FOLLOWER when not the leader).
    /// </summary>
    public async Task<KafkaError> WriteLocalAsync(string topic, int index, long producerId, short producerEpoch, bool commit, int coordinatorEpoch,
        CancellationToken ct)
    {
        if (_replicas.Get(topic, index) is not { } partition) return KafkaError.NotLeaderOrFollower;
        try
        {
            partition.AppendControlMarker(producerId, producerEpoch, commit, coordinatorEpoch);
            partition.NotifyAppended();
        }
        catch (LogException e)
        {
            _log.LogWarning("The {Marker} marker of producer {ProducerId} was refused by {Topic}-{Partition}: {Error} {Message}",
                commit ? "COMMIT" : "ABORT", producerId, topic, index, e.Error, e.Message);
            return e.Error;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            _log.LogError(e, "Writing the {Marker} marker into {Topic}-{Partition} failed", commit ? "COMMIT" : "ABORT", topic, index);
            return KafkaError.KafkaStorageError;
        }
        var replicated = await partition.WaitForHighWatermarkAsync(partition.Log.LogEndOffset, 1, ReplicationTimeout, _time, ct);
        if (replicated != KafkaError.None) return replicated;
        if (topic == OffsetsTopic.Name) await _groups.CompleteTransactionAsync(producerId, index, commit);
        return KafkaError.None;
    }

    /// <summary>Writes the markers of one transaction into all its partitions; returns once each is written or gone.</summary>
    public async Task WriteAsync(TransactionMetadata txn, bool commit, int coordinatorEpoch, CancellationToken ct)
    {
        var pending = txn.Partitions.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition).ToList();
        while (true)
        {
            var retry = new List<(string Topic, int Partition)>();
            var remote = new Dictionary<int, List<(string Topic, int Partition)>>();
            foreach (var (topic, index) in pending)
            {
                if (_replicas.Get(topic, index) is not null)
                {
                    var error = await WriteLocalAsync(topic, index, txn.ProducerId, txn.ProducerEpoch, commit, coordinatorEpoch, ct);
                    if (IsDone(error, txn, topic, index)) continue;
                    retry.Add((topic, index));
                    continue;
                }
                if (_metadata?.GetPartition(topic, index) is not { } info)
                {
                    _log.LogWarning("Transaction {Txn}: {Topic}-{Partition} is gone; no marker written there", LogSafe.Text(txn.TransactionalId), topic, index);
                    continue;
                }
                int leader = info.State.Leader;
                if (leader < 0 || leader == _brokerId || _metadata.Brokers.All(b => b.Id != leader)) retry.Add((topic, index));
                else (remote.TryGetValue(leader, out var list) ? list : remote[leader] = []).Add((topic, index));
            }
            foreach (var (leader, partitions) in remote) retry.AddRange(await SendAsync(leader, partitions, txn, commit, coordinatorEpoch, ct));
            if (retry.Count == 0) return;
            pending = retry;
            await Task.Delay(RetryBackoff, _time, ct);
        }
    }

    /// <summary>Whether a partition's marker needs no retry: written, or refused for good (the producer or coordinator was fenced there).</summary>
    private bool IsDone(KafkaError error, TransactionMetadata txn, string topic, int index)
    {
        if (error == KafkaError.None) return true;
        if (error is KafkaError.InvalidProducerEpoch or KafkaError.TransactionCoordinatorFenced or KafkaError.ProducerFenced)
        {
            _log.LogWarning("Transaction {Txn}: {Topic}-{Partition} refused its marker for good ({Error}); not retried",
                LogSafe.Text(txn.TransactionalId), topic, index, error);
            return true;
        }
        return false;
    }

    /// <summary>One WriteTxnMarkers to a leader for its partitions; returns those to retry.</summary>
    private async Task<List<(string Topic, int Partition)>> SendAsync(int leader, List<(string Topic, int Partition)> partitions,
        TransactionMetadata txn, bool commit, int coordinatorEpoch, CancellationToken ct)
    {
        var marker = new WriteTxnMarkersRequestData.MarkersItem
        {
            ProducerId = txn.ProducerId, ProducerEpoch = txn.ProducerEpoch, TransactionResult = commit, CoordinatorEpoch = coordinatorEpoch,
        };
        foreach (var topic in partitions.GroupBy(p => p.Topic))
            marker.Topics.Add(new WriteTxnMarkersRequestData.MarkersItem.TopicsItem { Name = topic.Key, PartitionIndexes = [.. topic.Select(p => p.Partition)] });
        var request = new WriteTxnMarkersRequestData();
        request.Markers.Add(marker);
        WriteTxnMarkersResponseData response;
        try
        {
            response = await _channel!.SendAsync(leader, request, RequestTimeout, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is IOException or System.Net.Sockets.SocketException or KafkaProtocolException
            or OperationCanceledException or ObjectDisposedException)
        {
            _log.LogInformation("Transaction {Txn}: writing markers through broker {Leader} failed ({Reason}); retrying",
                LogSafe.Text(txn.TransactionalId), leader, e.Message);
            return partitions;
        }
        var retry = new List<(string Topic, int Partition)>(partitions);
        foreach (var topic in response.Markers.SelectMany(m => m.Topics))
            foreach (var p in topic.Partitions)
                if (IsDone((KafkaError)p.ErrorCode, txn, topic.Name, p.PartitionIndex)) retry.Remove((topic.Name, p.PartitionIndex));
        return retry;
    }

    public ValueTask DisposeAsync() => _channel?.DisposeAsync() ?? ValueTask.CompletedTask;
}
