using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Log;

/// <summary>
/// The log of one partition (Kafka's UnifiedLog): a directory <c>topic-N</c> of segments named by base offset.
/// <para>
/// Threading: one owner. Every change (append, roll, flush bookkeeping, retention, DeleteRecords, compaction's
/// segment swap) takes <c>_lock</c>; reads take no lock. A reader captures the log end (offset plus file
/// position) and the segment array, both published only after the bytes they describe are written, so it
/// sees whole batches up to the end it captured and never a partial append.
/// </para>
/// </summary>
public sealed partial class PartitionLog : IDisposable
{
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly List<BatchHeader> _headers = [];
    private readonly List<ReadOnlyMemory<byte>> _writeBuffers = [];
    private readonly List<(LogSegment Segment, long CloseAtMs)> _retired = [];
    private readonly ProducerStateManager _producers;
    private byte[] _headerScratch = new byte[BatchHeader.Size * 4];
    private volatile LogSegment[] _segments;
    private volatile LogOffsetMetadata _end;
    private long _logStartOffset;
    private long _recoveryPoint;
    private long _lastFlushMs;
    private bool _dirDirty = true; // a segment file was created since the directory was last fsynced
    /// <summary>The cleaner's bookmark: the active segment's base and the time at its last pass.</summary>
    internal long LastCleanedBase = -1, LastCleanMs = long.MinValue;
    /// <summary>Set when compaction met a batch it cannot decode; the cleaner leaves this log alone from then on.</summary>
    internal volatile bool Uncleanable;
    private bool _disposed;

    internal PartitionLog(string dir, string topic, int partition, LogConfig config, TimeProvider time,
        LogSegment[] segments, long logStartOffset, long recoveryPoint, ProducerStateManager producers)
    {
        Dir = dir;
        Topic = topic;
        Partition = partition;
        Config = config;
        _time = time;
        _segments = segments;
        var active = segments[^1];
        _end = new LogOffsetMetadata(active.NextOffset, active.BaseOffset, active.Size);
        _logStartOffset = logStartOffset;
        _recoveryPoint = recoveryPoint;
        _producers = producers;
        _lastFlushMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        PublishLastStableOffsetLocked();
    }

    /// <summary>Opens (recovering if needed) or creates the log in <paramref name="dir"/>; see <see cref="LogLoader"/>.</summary>
    public static PartitionLog Open(string dir, string topic, int partition, LogConfig config, TimeProvider? time = null,
        long recoveryPoint = 0, long logStartOffset = 0, bool hadCleanShutdown = false) =>
        LogLoader.Load(dir, topic, partition, config.Validate(), time ?? TimeProvider.System, recoveryPoint, logStartOffset, hadCleanShutdown);

    public string Dir { get; }
    public string Topic { get; }
    public int Partition { get; }
    public LogConfig Config { get; private set; }
    public long LogEndOffset => _end.Offset;
    public long LogStartOffset => Volatile.Read(ref _logStartOffset);
    /// <summary>Everything below this offset is fsynced; recovery rescans only from here.</summary>
    public long RecoveryPoint => Volatile.Read(ref _recoveryPoint);
    public IReadOnlyList<LogSegment> Segments => _segments;
    public LogSegment ActiveSegment => _segments[^1];
    public long Size => _segments.Sum(s => (long)s.Size);
    public ProducerStateManager ProducerState => _producers;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public void UpdateConfig(LogConfig config)
    {
        lock (_lock) Config = config.Validate();
    }

    /// <summary>
    /// Appends record batches (magic 2) from a produce request: validates them all, checks idempotent producer
    /// sequences, assigns offsets by rewriting each batch's baseOffset and partitionLeaderEpoch (outside the CRC),
    /// and writes them unchanged otherwise. All or nothing: on a <see cref="LogException"/> nothing was written.
    /// A retried duplicate returns its original offsets with <see cref="LogAppendInfo.IsDuplicate"/> set.
    /// </summary>
    /// <param name="origin">Who writes: a client's batches have their producer sequences checked; a coordinator's
    /// (the group coordinator's transactional offset commits) carry none.</param>
    public LogAppendInfo Append(ReadOnlyMemory<byte> batches, int leaderEpoch = 0, AppendOrigin origin = AppendOrigin.Client)
    {
        var info = AppendLocked(batches, leaderEpoch, origin);
        if (!info.IsDuplicate) Appended?.Invoke();
        return info;
    }

    /// <summary>Raised (outside the lock) after a client's or coordinator's batches are appended: a leader's high watermark may move.</summary>
    internal event Action? Appended;

    private LogAppendInfo AppendLocked(ReadOnlyMemory<byte> batches, int leaderEpoch, AppendOrigin origin)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var config = Config;
            BatchValidator.Validate(batches, config, _headers, origin);
            long now = NowMs;
            long appendTime = config.LogAppendTime ? now : -1;

            // Offsets and producer checks first, all before a single byte is written.
            long next = _end.Offset;
            int totalBytes = 0, recordCount = 0;
            long maxTimestamp = -1;
            try
            {
                for (int i = 0; i < _headers.Count; i++)
                {
                    var h = _headers[i];
                    long first = next, last = next + h.LastOffsetDelta;
                    if (h.HasProducerId && _producers.CheckAndStage(h, first, last, origin) is { } duplicate)
                    {
                        _producers.DiscardPending();
                        return new LogAppendInfo(duplicate.FirstOffset, duplicate.LastOffset, appendTime, LogStartOffset,
                            duplicate.Timestamp, (int)(duplicate.LastOffset - duplicate.FirstOffset + 1), IsDuplicate: true);
                    }
                    _headers[i] = h with
                    {
                        BaseOffset = first,
                        PartitionLeaderEpoch = leaderEpoch,
                        MaxTimestamp = config.LogAppendTime ? now : h.MaxTimestamp,
                    };
                    next = last + 1;
                    totalBytes += h.SizeInBytes;
                    recordCount += h.RecordCount;
                    maxTimestamp = Math.Max(maxTimestamp, _headers[i].MaxTimestamp);
                }
                if (totalBytes > config.SegmentBytes)
                    throw new LogException(KafkaError.MessageTooLarge, $"append of {totalBytes} bytes exceeds segment.bytes {config.SegmentBytes}");
            }
            catch
            {
                _producers.DiscardPending();
                throw;
            }

            var segment = ActiveSegment;
            try
            {
                if (segment.ShouldRoll(config, totalBytes, next - 1, now)) segment = RollLocked(now);
                WriteBatches(segment, batches, leaderEpoch, appendTime, totalBytes);
            }
            catch (IOException e)
            {
                // Disk full or failing: nothing is acknowledged; the next append overwrites any partial bytes.
                _producers.DiscardPending();
                throw new LogException(KafkaError.KafkaStorageError, $"append to {segment.LogPath} failed: {e.Message}");
            }
            _producers.CommitPending(next);
            _end = new LogOffsetMetadata(next, segment.BaseOffset, segment.Size);
            PublishLastStableOffsetLocked();

            if (next - _recoveryPoint >= config.FlushMessages) FlushLocked();
            return new LogAppendInfo(_headers[0].BaseOffset, next - 1, appendTime, LogStartOffset, maxTimestamp, recordCount, IsDuplicate: false);
        }
    }

    /// <summary>
    /// One gathered write per append: for each batch, a patched copy of its 61-byte header (offset, leader epoch;
    /// for LogAppendTime topics the timestamp, or else a max timestamp the validator recomputed, with the CRC),
    /// then its records straight from the request buffer.
    /// </summary>
    private void WriteBatches(LogSegment segment, ReadOnlyMemory<byte> input, int leaderEpoch, long appendTime, int totalBytes)
    {
        int n = _headers.Count;
        if (_headerScratch.Length < n * BatchHeader.Size) _headerScratch = new byte[n * BatchHeader.Size * 2];
        _writeBuffers.Clear();
        int position = 0;
        for (int i = 0; i < n; i++)
        {
            var h = _headers[i];
            var header = _headerScratch.AsSpan(i * BatchHeader.Size, BatchHeader.Size);
            input.Span.Slice(position, BatchHeader.Size).CopyTo(header);
            BatchHeader.WriteBaseOffset(header, h.BaseOffset);
            BatchHeader.WritePartitionLeaderEpoch(header, leaderEpoch);
            var records = input.Slice(position + BatchHeader.Size, h.SizeInBytes - BatchHeader.Size);
            if (appendTime >= 0) BatchHeader.WriteMaxTimestamp(header, records.Span, appendTime, logAppendTime: true);
            else if (BatchHeader.Parse(header).MaxTimestamp != h.MaxTimestamp)
                BatchHeader.WriteMaxTimestamp(header, records.Span, h.MaxTimestamp, logAppendTime: false);
            _writeBuffers.Add(_headerScratch.AsMemory(i * BatchHeader.Size, BatchHeader.Size));
            if (!records.IsEmpty) _writeBuffers.Add(records);
            position += h.SizeInBytes;
        }
        segment.Append(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_headers), _writeBuffers, totalBytes);
        _writeBuffers.Clear();
    }

    /// <summary>Starts a new segment at the log end offset (also used by tests and retention).</summary>
    public LogSegment Roll()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return RollLocked(NowMs);
        }
    }

    private LogSegment RollLocked(long now)
    {
        var old = ActiveSegment;
        long newBase = _end.Offset;
        if (old.Size == 0) return old;
        old.OnBecomeInactive();
        var segment = new LogSegment(Dir, newBase, Config, now);
        _dirDirty = true;
        _segments = [.. _segments, segment];
        _end = new LogOffsetMetadata(newBase, newBase, 0);
        _producers.TakeSnapshot();
        // Kafka flushes the rolled segment in the background so the recovery point moves on without stalling appends.
        _ = Task.Run(() => FlushUpTo(newBase));
        return segment;
    }

    /// <summary>fsyncs every segment with data below <paramref name="offset"/> and moves the recovery point up to it.</summary>
    private void FlushUpTo(long offset)
    {
        try
        {
            foreach (var segment in _segments)
                if (segment.BaseOffset < offset && segment.NextOffset > RecoveryPoint) segment.Flush();
            lock (_lock)
                if (offset > _recoveryPoint && !_disposed) Volatile.Write(ref _recoveryPoint, offset);
        }
        catch (ObjectDisposedException)
        {
            // The log was closed (or the segment retired) meanwhile; closing flushes everything anyway.
        }
        catch (IOException)
        {
            // The recovery point stays where it was; the next flush or recovery covers these segments.
        }
    }

    /// <summary>fsyncs the log up to its end (Kafka's flush): everything appended so far survives a crash.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            FlushLocked();
        }
    }

    /// <summary>Told how long each flush took (ms), for the log flush metric.</summary>
    public Action<double>? Flushed { get; set; }

    private void FlushLocked()
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        long end = _end.Offset;
        foreach (var segment in _segments)
            if (segment.NextOffset > _recoveryPoint || segment == ActiveSegment) segment.Flush();
        if (_dirDirty)
        {
            DirectorySync.Flush(Dir); // the new segment files' names must survive a power loss too
            _dirDirty = false;
        }
        Volatile.Write(ref _recoveryPoint, end);
        _lastFlushMs = NowMs;
        Flushed?.Invoke(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>flush.ms: fsyncs if the last flush is older than the setting (called periodically by the log manager).</summary>
    public bool FlushIfDue()
    {
        lock (_lock)
        {
            if (_disposed || Config.FlushMs == long.MaxValue || NowMs - _lastFlushMs < Config.FlushMs) return false;
            if (_end.Offset > _recoveryPoint) FlushLocked();
            else _lastFlushMs = NowMs;
            return true;
        }
    }

    /// <summary>Clean shutdown: final time index entry, fsync, producer snapshot, close files.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            ActiveSegment.OnBecomeInactive();
            FlushLocked();
            if (_producers.MapEndOffset != _end.Offset) _producers.CommitPending(_end.Offset);
            _producers.TakeSnapshot();
            _disposed = true;
            foreach (var segment in _segments) segment.Dispose();
            foreach (var (segment, _) in _retired) segment.Dispose();
            _retired.Clear();
        }
    }

    /// <summary>Closes without flushing or snapshotting, as a crash would leave things (for tests of recovery).</summary>
    internal void CloseAbruptly()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var segment in _segments) segment.Dispose();
            foreach (var (segment, _) in _retired) segment.Dispose();
        }
    }

    public override string ToString() => $"PartitionLog({Topic}-{Partition}, [{LogStartOffset}, {LogEndOffset}))";
}
