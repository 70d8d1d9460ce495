using Confluent.Kafka;
using Quill.Streams.Api;
using Quill.Streams.Runtime;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Connectors.Kafka;

/// <summary>
/// One source task: a consumer assigned its partitions (no group protocol), reading until the job stops, pushing each
/// record into the task's chain. With a watermark strategy it tracks a watermark per partition and passes on the
/// minimum whenever that rises. At a clean finish it commits, for each partition, the offset after the last record it
/// pushed (everything pushed has then gone through the sinks).
/// </summary>
internal sealed class KafkaSourceTask<TKey, TValue> : IJobTask
{
    private readonly IReadOnlyList<TopicPartition> _partitions;
    private readonly StartFrom _start;
    private readonly Serde<TKey> _keySerde;
    private readonly Serde<TValue> _valueSerde;
    private readonly WatermarkStrategy<KafkaRecord<TKey, TValue>>? _watermarks;
    private readonly IStreamInput<KafkaRecord<TKey, TValue>> _chain;
    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly Dictionary<TopicPartition, long> _nextOffsets = [];
    private readonly Dictionary<TopicPartition, long> _maxTimestamps = [];
    private long _watermark = long.MinValue;

    public KafkaSourceTask(StreamJobOptions options, IReadOnlyList<TopicPartition> partitions, StartFrom start,
        Serde<TKey> keySerde, Serde<TValue> valueSerde, WatermarkStrategy<KafkaRecord<TKey, TValue>>? watermarks,
        IStreamInput<KafkaRecord<TKey, TValue>> chain)
    {
        _partitions = partitions;
        _start = start;
        _keySerde = keySerde;
        _valueSerde = valueSerde;
        _watermarks = watermarks;
        _chain = chain;
        _consumer = new ConsumerBuilder<byte[]?, byte[]?>(KafkaClientConfigs.Consumer(options)).Build();
        foreach (var partition in partitions) _maxTimestamps[partition] = long.MinValue;
    }

    public async Task RunAsync(CancellationToken stop, CancellationToken abort)
    {
        using var stopOrAbort = CancellationTokenSource.CreateLinkedTokenSource(stop, abort);
        if (_partitions.Count == 0)
        {
            // Nothing to read: this task must not hold back the event time of the tasks downstream (Flink marks such a
            // source idle).
            if (_watermarks is not null) await _chain.WatermarkAsync(long.MaxValue);
            try
            {
                await Task.Delay(Timeout.Infinite, stopOrAbort.Token);
            }
            catch (OperationCanceledException) when (!abort.IsCancellationRequested)
            {
            }
            await _chain.EndAsync();
            return;
        }

        var offset = _start switch
        {
            StartFrom.Earliest => Offset.Beginning,
            StartFrom.Latest => Offset.End,
            _ => Offset.Stored,
        };
        _consumer.Assign(_partitions.Select(p => new TopicPartitionOffset(p, offset)));
        while (true)
        {
            ConsumeResult<byte[]?, byte[]?>? result;
            try
            {
                result = _consumer.Consume(stopOrAbort.Token);
            }
            catch (OperationCanceledException) when (!abort.IsCancellationRequested)
            {
                break;
            }
            if (result is null || result.IsPartitionEOF) continue;
            await PushAsync(result);
        }
        await _chain.EndAsync();
    }

    private async ValueTask PushAsync(ConsumeResult<byte[]?, byte[]?> result)
    {
        var message = result.Message;
        long kafkaTimestamp = message.Timestamp.UnixTimestampMs;
        var record = new KafkaRecord<TKey, TValue>(result.Topic, result.Partition.Value, result.Offset.Value, kafkaTimestamp,
            _keySerde.Deserialize(message.Key), _valueSerde.Deserialize(message.Value));
        long timestamp = _watermarks?.TimestampAssigner?.Invoke(record, kafkaTimestamp) ?? kafkaTimestamp;
        await _chain.RecordAsync(record, timestamp);
        _nextOffsets[result.TopicPartition] = result.Offset.Value + 1;
        if (_watermarks is null) return;

        var partition = result.TopicPartition;
        if (timestamp <= _maxTimestamps[partition]) return;
        _maxTimestamps[partition] = timestamp;
        long watermark = _watermarks.WatermarkFor(_maxTimestamps.Values.Min());
        if (watermark <= _watermark) return;
        _watermark = watermark;
        await _chain.WatermarkAsync(watermark);
    }

    public void Finish(bool completed)
    {
        try
        {
            if (completed && _nextOffsets.Count > 0)
                _consumer.Commit(_nextOffsets.Select(p => new TopicPartitionOffset(p.Key, p.Value)));
        }
        finally
        {
            _consumer.Close();
            _consumer.Dispose();
        }
    }
}
