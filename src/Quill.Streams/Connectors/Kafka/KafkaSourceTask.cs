using Confluent.Kafka;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Runtime;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Connectors.Kafka;

/// <summary>
/// One source task: a consumer assigned its partitions (no group protocol), reading until the job stops, pushing each
/// record into the task's chain. With a watermark strategy it tracks a watermark per partition and passes on the
/// minimum whenever that rises (<see cref="PartitionWatermarks{TPartition}"/>: with an idleness, idle partitions are left
/// out, and the task tells downstream when it is idle or active again). Between records it injects the barrier of a
/// checkpoint the coordinator asked for, recording the offset after the last record it pushed for each partition. It starts from a restored checkpoint's
/// offsets where there are any. At-least-once, it commits its partitions' offsets to the job's consumer group when a
/// checkpoint completes (Flink's KafkaSource commitOffsetsOnCheckpoint: for monitoring, a restore reads the checkpoint)
/// and at a clean finish (everything pushed has then gone through the sinks); exactly-once, offsets are committed with
/// the checkpoints' output transactions only, and a clean stop takes a final checkpoint before the end.
/// <para>
/// A table's source task says it is idle at once (a table holds back no event time). Once each of its partitions has
/// been read to its end (at once if it has none) it sends a loaded marker (<see cref="ElementKind.TableLoaded"/>) down
/// its chain, so that every join subtask the table feeds, in this process or another, learns that this subtask's part
/// of the table is there, and then tells the job's <see cref="TableBootstrap"/>: the other source tasks of this process
/// read nothing before every table task of this process is loaded (they still pass on barriers).
/// </para>
/// </summary>
internal sealed class KafkaSourceTask<TKey, TValue> : IJobTask, IBarrierSource
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);
    /// <summary>For the offset lookups of a start from latest or from a timestamp.</summary>
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(30);
    private readonly string _sourceId;
    private readonly IReadOnlyList<TopicPartition> _partitions;
    private readonly StartFrom _start;
    private readonly Serde<TKey> _keySerde;
    private readonly Serde<TValue> _valueSerde;
    private readonly WatermarkStrategy<KafkaRecord<TKey, TValue>>? _watermarks;
    private readonly IStreamInput<KafkaRecord<TKey, TValue>> _chain;
    private readonly CheckpointCoordinator? _checkpoints;
    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly bool _exactlyOnce;
    /// <summary>
    /// Per partition (in <see cref="_partitions"/>' order), the offset after the last record pushed (or the restored
    /// offset, before any); <see cref="Unknown"/> before either. An array, so a record costs no lookup by a new TopicPartition.
    /// </summary>
    private readonly long[] _nextOffsets;
    private const long Unknown = long.MinValue;
    /// <summary>Per topic read, each partition id's index in <see cref="_partitions"/> (-1: not this task's).</summary>
    private readonly Dictionary<string, int[]> _partitionIndexes = new(StringComparer.Ordinal);
    private string? _lastTopic;
    private int[] _lastTopicIndexes = [];
    /// <summary>Records were pushed since the chain was last flushed (<see cref="IStreamControl.FlushAsync"/>).</summary>
    private bool _unflushed;
    private readonly TimeProvider _time;
    /// <summary>Null without a watermark strategy, or with no partitions.</summary>
    private PartitionWatermarks<TopicPartition>? _partitionWatermarks;
    private readonly TableBootstrap _tables;
    /// <summary>A table's partitions not read to their end yet; null for other sources.</summary>
    private readonly HashSet<TopicPartition>? _loading;
    /// <summary>The job's parallelism: how many source subtasks a table has (the loaded marker tells its joins).</summary>
    private readonly int _tableSubtasks;
    private long _requestedBarrier;
    private long _injectedBarrier;
    /// <summary>At-least-once: the newest completed checkpoint's offsets of this task's partitions, not committed yet.</summary>
    private List<TopicPartitionOffset>? _completedOffsets;
    private readonly Action<string> _log;

    public KafkaSourceTask(StreamJobOptions options, string sourceId, IReadOnlyList<TopicPartition> partitions, StartFrom start,
        IReadOnlyDictionary<string, long> restoredOffsets, Serde<TKey> keySerde, Serde<TValue> valueSerde,
        WatermarkStrategy<KafkaRecord<TKey, TValue>>? watermarks, IStreamInput<KafkaRecord<TKey, TValue>> chain,
        CheckpointCoordinator? checkpoints, TableBootstrap tables, bool isTable)
    {
        _sourceId = sourceId;
        _partitions = partitions;
        _start = start;
        _keySerde = keySerde;
        _valueSerde = valueSerde;
        _watermarks = watermarks;
        _chain = chain;
        _checkpoints = checkpoints;
        _exactlyOnce = options.ExactlyOnce && checkpoints is not null;
        _time = options.TimeProvider;
        var config = KafkaClientConfigs.Consumer(options);
        if (isTable) config.EnablePartitionEof = true; // a table is loaded when each partition has reported its end once
        _consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).Build();
        _log = options.HighAvailability?.Log ?? Console.Error.WriteLine;
        if (checkpoints is not null && !_exactlyOnce) checkpoints.Completed += OnCheckpointCompleted;
        _tables = tables;
        _tableSubtasks = options.Parallelism;
        if (isTable)
        {
            _loading = [.. partitions];
            if (_loading.Count > 0) tables.AddTableTask();
        }
        _nextOffsets = new long[partitions.Count];
        for (int i = 0; i < partitions.Count; i++)
            _nextOffsets[i] = restoredOffsets.TryGetValue(Name(partitions[i]), out long offset) ? offset : Unknown;
        foreach (var topic in partitions.GroupBy(p => p.Topic))
        {
            var indexes = new int[topic.Max(p => p.Partition.Value) + 1];
            Array.Fill(indexes, -1);
            foreach (var partition in topic) indexes[partition.Partition.Value] = IndexOf(partitions, partition);
            _partitionIndexes.Add(topic.Key, indexes);
        }
    }

    private static int IndexOf(IReadOnlyList<TopicPartition> partitions, TopicPartition partition)
    {
        for (int i = 0; i < partitions.Count; i++)
            if (partitions[i] == partition) return i;
        return -1;
    }

    /// <summary>The index in <see cref="_partitions"/> of a record's partition (-1 if the consumer returned another one).</summary>
    private int PartitionIndex(string? topic, int partition)
    {
        // Without the topic in the results (a user's consume.result.fields), a task reading one topic still knows it.
        if (topic is null && _partitionIndexes.Count == 1) topic = _partitions[0].Topic;
        if (topic is null) return -1;
        if (!string.Equals(topic, _lastTopic, StringComparison.Ordinal))
        {
            if (!_partitionIndexes.TryGetValue(topic, out var indexes)) return -1;
            _lastTopic = topic;
            _lastTopicIndexes = indexes;
        }
        return (uint)partition < (uint)_lastTopicIndexes.Length ? _lastTopicIndexes[partition] : -1;
    }

    /// <summary>The partitions whose next offset is known, with it.</summary>
    private IEnumerable<(TopicPartition Partition, long Offset)> KnownOffsets()
    {
        for (int i = 0; i < _partitions.Count; i++)
            if (_nextOffsets[i] != Unknown) yield return (_partitions[i], _nextOffsets[i]);
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static string Name(TopicPartition partition) => $"{partition.Topic}:{partition.Partition.Value}";

    public void RequestBarrier(long checkpointId) => Interlocked.Exchange(ref _requestedBarrier, checkpointId);

    public async Task RunAsync(CancellationToken stop, CancellationToken abort)
    {
        if (_partitions.Count == 0 && _watermarks is not null)
        {
            // Nothing to read: this task must not hold back the event time of the tasks downstream (Flink marks such a
            // source idle).
            await _chain.WatermarkAsync(long.MaxValue);
        }
        if (_partitions.Count > 0 && _watermarks is not null)
        {
            long? idlenessMs = _watermarks.Idleness is { } idleness ? (long)idleness.TotalMilliseconds : null;
            _partitionWatermarks = new PartitionWatermarks<TopicPartition>(_partitions, _watermarks.WatermarkFor, idlenessMs, Now);
        }
        if (_loading is not null)
        {
            await _chain.WatermarkStatusAsync(WatermarkStatus.Idle);
            if (_loading.Count == 0) await _chain.TableLoadedAsync(_tableSubtasks); // no partitions: nothing to load
        }
        if (_partitions.Count > 0) _consumer.Assign(StartPositions());

        while (!stop.IsCancellationRequested)
        {
            abort.ThrowIfCancellationRequested();
            await InjectRequestedBarrierAsync();
            CommitCompletedCheckpoint();
            if (_partitions.Count == 0 || (_loading is null && !_tables.IsLoaded))
            {
                await FlushAsync();
                await Task.WhenAny(Task.Delay(PollTimeout, stop));
                continue;
            }
            // After records, only a look at what the client has at hand: when it has none, the chain is flushed (its
            // batches for the next stage go) before the task waits for more.
            var result = _consumer.Consume(_unflushed ? TimeSpan.Zero : PollTimeout);
            if (result is { IsPartitionEOF: true } && _loading is not null)
            {
                // The table's records reach the keyed tasks' mailboxes before the other sources may start reading.
                await FlushAsync();
                await PartitionLoadedAsync(result.TopicPartition);
            }
            if (result is not null && !result.IsPartitionEOF)
            {
                await PushAsync(result);
                _unflushed = true;
                continue;
            }
            await FlushAsync();
            if (_partitionWatermarks is not null) await UpdateWatermarkAsync(); // a partition may have gone idle
        }
        if (_exactlyOnce) await InjectFinalBarrierAsync(abort);
        await _chain.EndAsync();
    }

    /// <summary>
    /// Where each partition starts: its restored offset; else the source's start. Latest and a timestamp are resolved
    /// to offsets now and kept as the partitions' next offsets, so that a checkpoint taken before a partition's first
    /// record holds where it starts and a restore starts there (not at a later end of the log: records written in
    /// between would be skipped). Earliest and committed are left to the client: they give the same offset again
    /// (committed offsets move only with this job's own checkpoints, which hold every partition's offset).
    /// </summary>
    private List<TopicPartitionOffset> StartPositions()
    {
        var unresolved = Enumerable.Range(0, _partitions.Count).Where(i => _nextOffsets[i] == Unknown).ToList();
        if (_start.IsTimestamp && unresolved.Count > 0)
        {
            var times = unresolved.Select(i => new TopicPartitionTimestamp(_partitions[i], new Timestamp(_start.Time)));
            foreach (var found in _consumer.OffsetsForTimes(times, LookupTimeout))
            {
                int index = IndexOf(_partitions, found.TopicPartition);
                if (index >= 0 && found.Offset.Value >= 0) _nextOffsets[index] = found.Offset.Value;
            }
        }
        if (_start.IsLatest || _start.IsTimestamp)
        {
            // Latest, or no record at or after the timestamp yet: the end of the log now.
            foreach (int i in unresolved)
                if (_nextOffsets[i] == Unknown) _nextOffsets[i] = _consumer.QueryWatermarkOffsets(_partitions[i], LookupTimeout).High.Value;
        }
        var unknown = _start.IsCommitted ? Offset.Stored : Offset.Beginning;
        return [.. _partitions.Select((p, i) => new TopicPartitionOffset(p, _nextOffsets[i] != Unknown ? new Offset(_nextOffsets[i]) : unknown))];
    }

    private async ValueTask FlushAsync()
    {
        if (!_unflushed) return;
        _unflushed = false;
        await _chain.FlushAsync();
    }

    /// <summary>
    /// Exactly-once, at a clean stop: before the end, the barriers still asked for, up to the final checkpoint's, so
    /// that the output of everything this task has read is committed (else the end would abort it).
    /// </summary>
    private async Task InjectFinalBarrierAsync(CancellationToken abort)
    {
        _checkpoints!.RequestFinalCheckpoint();
        while (true)
        {
            await InjectRequestedBarrierAsync();
            long final = _checkpoints.FinalCheckpointId;
            if (final != 0 && _injectedBarrier >= final) return;
            await Task.Delay(10, abort);
        }
    }

    /// <summary>
    /// A partition reached its end: when it was the last one, the joins fed by this task get the loaded marker (after
    /// every update before it, on each channel), then this process's other sources may start.
    /// </summary>
    private async ValueTask PartitionLoadedAsync(TopicPartition partition)
    {
        if (!_loading!.Remove(partition) || _loading.Count > 0) return;
        await _chain.TableLoadedAsync(_tableSubtasks);
        _tables.TableTaskLoaded();
    }

    private async ValueTask InjectRequestedBarrierAsync()
    {
        long requested = Interlocked.Read(ref _requestedBarrier);
        if (requested <= _injectedBarrier || _checkpoints is null) return;
        _injectedBarrier = requested;
        _checkpoints.AddSourceOffsets(requested, _sourceId, KnownOffsets().Select(p => KeyValuePair.Create(Name(p.Partition), p.Offset)));
        await _chain.BarrierAsync(requested);
        _checkpoints.Acknowledge(requested);
    }

    /// <summary>From the coordinator, on the thread that completed the checkpoint: this task's offsets in it, to commit.</summary>
    private void OnCheckpointCompleted(Checkpoint checkpoint)
    {
        if (!checkpoint.SourceOffsets.TryGetValue(_sourceId, out var offsets)) return;
        var mine = _partitions.Where(p => offsets.ContainsKey(Name(p))).Select(p => new TopicPartitionOffset(p, offsets[Name(p)])).ToList();
        if (mine.Count > 0) Volatile.Write(ref _completedOffsets, mine);
    }

    /// <summary>
    /// On the task's thread, between records: commits the newest completed checkpoint's offsets, if any came since the
    /// last commit. A failure is only logged (as Flink's): the checkpoint, not the group, is what a restore reads.
    /// </summary>
    private void CommitCompletedCheckpoint()
    {
        if (Interlocked.Exchange(ref _completedOffsets, null) is not { } offsets) return;
        try
        {
            _consumer.Commit(offsets);
        }
        catch (KafkaException e)
        {
            _log($"source {_sourceId}: committing a completed checkpoint's offsets to the group failed: {e.Message}");
        }
    }

    private async ValueTask PushAsync(ConsumeResult<byte[]?, byte[]?> result)
    {
        var message = result.Message;
        long kafkaTimestamp = message.Timestamp.UnixTimestampMs;
        var record = new KafkaRecord<TKey, TValue>(result.Topic, result.Partition.Value, result.Offset.Value, kafkaTimestamp,
            _keySerde.Deserialize(message.Key), _valueSerde.Deserialize(message.Value));
        long timestamp = _watermarks?.TimestampAssigner?.Invoke(record, kafkaTimestamp) ?? kafkaTimestamp;
        int index = PartitionIndex(result.Topic, result.Partition.Value);
        if (_partitionWatermarks is null)
        {
            await _chain.RecordAsync(record, timestamp);
            SetNextOffset(index, result);
            return;
        }
        // An idle task says it is active again before its record (Flink's source does the same).
        if (_partitionWatermarks.OnRecord(result.TopicPartition, timestamp, Now)) await _chain.WatermarkStatusAsync(WatermarkStatus.Active);
        await _chain.RecordAsync(record, timestamp);
        SetNextOffset(index, result);
        await UpdateWatermarkAsync();
    }

    private void SetNextOffset(int index, ConsumeResult<byte[]?, byte[]?> result)
    {
        if (index < 0) throw new InvalidOperationException($"source {_sourceId}: a record of {result.TopicPartition}, which this task was not assigned");
        _nextOffsets[index] = result.Offset.Value + 1;
    }

    private async ValueTask UpdateWatermarkAsync()
    {
        var (status, watermark) = _partitionWatermarks!.Update(Now);
        if (status is { } changed) await _chain.WatermarkStatusAsync(changed);
        if (watermark is { } rose) await _chain.WatermarkAsync(rose);
    }

    public void Finish(bool completed)
    {
        if (_checkpoints is not null && !_exactlyOnce) _checkpoints.Completed -= OnCheckpointCompleted;
        try
        {
            var known = KnownOffsets().Select(p => new TopicPartitionOffset(p.Partition, p.Offset)).ToList();
            if (completed && !_exactlyOnce && known.Count > 0) _consumer.Commit(known);
        }
        finally
        {
            _consumer.Close();
            _consumer.Dispose();
        }
    }
}
