using Microsoft.Extensions.Logging;

namespace Quill.Keeper.Storage;

/// <summary>
/// The write-ahead txn log: files log.&lt;hex zxid of first entry&gt; in one directory (dataLogDir), frames as
/// described in <see cref="TxnLogFormat"/>.
/// <para>
/// Durability: <see cref="Append"/> only buffers. <see cref="Commit"/> writes everything appended since the
/// last commit with one write call and, when <see cref="TxnLogOptions.ForceSync"/>, one fsync: the group
/// commit the pipeline's sync stage runs after draining a batch. A txn may be acknowledged once the Commit
/// that covers it has returned. A failed write or fsync leaves the file in an unknown state, so the log then
/// refuses all further use (like ZooKeeper, the server should stop).
/// </para>
/// <para>
/// Lifecycle: construct, <see cref="Recover"/> once (it replays and repairs a torn tail), then Append/Commit.
/// After recovery the first Append always starts a new file, as ZooKeeper does, so recovered files are never
/// written again. <see cref="RollLog"/> (at snapshot time) also makes the next Append start a new file,
/// which is what lets the purger delete old files.
/// </para>
/// <para>
/// Threads: one owner thread calls Recover, Append, Commit, RollLog and Dispose; there is no locking. The
/// metric properties may be read from any thread. <see cref="ReadFrom"/> may run on another thread: it
/// only reads, and stops quietly at an incomplete tail.
/// </para>
/// </summary>
public sealed class TxnLog : IDisposable
{
    private const int InitialBufferSize = 64 * 1024;
    private const int RetainedBufferLimit = 4 * 1024 * 1024;

    private readonly string _directory;
    private readonly TxnLogOptions _options;
    private readonly ILogger _logger;

    // Appended frames live at _buffer[FileHeaderSize..]; the space before them takes the file header when
    // the commit opens a new file, so header and frames still go out in one write.
    private byte[] _buffer = new byte[InitialBufferSize];
    private int _pendingBytes;
    private long _pendingFirstZxid;

    private FileStream? _file;
    private string? _filePath;
    private long _fileDataEnd;
    private long _fileAllocated;

    private bool _recovered;
    private bool _disposed;
    private Exception? _failure;
    private long _lastZxid;
    private long _lastCommittedZxid;
    private readonly TimeProvider _time;
    // Durations in TimeSpan ticks, measured on the server's clock.
    private long _lastFsyncTicks;
    private long _totalFsyncTicks;
    private long _fsyncCount;

    public TxnLog(string directory, TxnLogOptions options, ILogger logger, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _directory = Path.GetFullPath(directory);
        _options = options;
        _logger = logger;
        Directory.CreateDirectory(_directory);
    }

    public string DirectoryPath => _directory;

    /// <summary>Zxid of the newest txn appended (or recovered), committed or not.</summary>
    public long LastZxid => Volatile.Read(ref _lastZxid);

    /// <summary>Zxid of the newest txn a returned <see cref="Commit"/> covers.</summary>
    public long LastCommittedZxid => Volatile.Read(ref _lastCommittedZxid);

    /// <summary>The file being appended to, null until the first commit after recovery or a roll.</summary>
    public string? CurrentFile => _filePath;

    public double LastFsyncMillis => TimeSpan.FromTicks(Volatile.Read(ref _lastFsyncTicks)).TotalMilliseconds;
    public double TotalFsyncMillis => TimeSpan.FromTicks(Volatile.Read(ref _totalFsyncTicks)).TotalMilliseconds;
    public long FsyncCount => Volatile.Read(ref _fsyncCount);

    /// <summary>
    /// Replays every txn with zxid &gt; <paramref name="afterZxid"/> (the snapshot's zxid, 0 without one), in
    /// order across files, and repairs the newest file: a torn or corrupt tail is truncated at the last good
    /// txn (a warning names file, offset and reason), zero-filled preallocated space is trimmed, and a newest
    /// file without one complete txn is deleted. Damage anywhere else throws <see cref="InvalidDataException"/>.
    /// Runs once, before the first Append. Returns how many txns were applied.
    /// </summary>
    /// <remarks>
    /// Snapshots are exact (an image of the state after their zxid's txn, taken on the owner thread between two
    /// applies), so replaying from the txn after their zxid applies every txn exactly once.
    /// </remarks>
    public long Recover(long afterZxid, Action<TxnEntry> apply)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_recovered) throw new InvalidOperationException("TxnLog.Recover runs once, before the first Append.");
        long applied = 0;
        foreach (var entry in Scan(afterZxid, repair: true))
        {
            if (applied == 0) WarnOnGap(afterZxid, entry.Zxid);
            apply(entry);
            applied++;
        }
        long last = Math.Max(_lastZxid, afterZxid);
        Volatile.Write(ref _lastZxid, last);
        Volatile.Write(ref _lastCommittedZxid, last);
        _recovered = true;
        _logger.LogInformation("Txn log {Directory}: replayed {Count} txns after zxid 0x{After:x}; last zxid 0x{Last:x}",
            _directory, applied, afterZxid, last);
        return applied;
    }

    /// <summary>
    /// Txns with zxid &gt; <paramref name="afterZxid"/> as they are on disk, without repairing anything: stops
    /// at the end of good data in the newest file, throws on damage in an older one. Lazy.
    /// </summary>
    public IEnumerable<TxnEntry> ReadFrom(long afterZxid) => Scan(afterZxid, repair: false);

    /// <summary>Buffers one txn; durable only after the next <see cref="Commit"/>. Zxids must increase.</summary>
    public void Append(TxnEntry entry) => Append(entry.Zxid, entry.SessionId, entry.Cxid, entry.Time, entry.Type, entry.Body);

    /// <summary>As <see cref="Append(TxnEntry)"/>, with the body copied from a span (no entry object, no body array).</summary>
    public void Append(long zxid, long sessionId, int cxid, long time, int type, ReadOnlySpan<byte> body)
    {
        ThrowIfUnusable();
        if (!_recovered) throw new InvalidOperationException("Call TxnLog.Recover before the first Append.");
        if (zxid <= _lastZxid)
            throw new ArgumentException($"zxid 0x{zxid:x} does not follow the last logged zxid 0x{_lastZxid:x}.", "entry");
        if (body.Length > TxnLogFormat.MaxBodySize)
            throw new ArgumentException($"txn body of {body.Length} bytes exceeds {TxnLogFormat.MaxBodySize}.", "entry");

        int frameSize = TxnLogFormat.FrameSize(body.Length);
        int needed = TxnLogFormat.FileHeaderSize + _pendingBytes + frameSize;
        if (needed > _buffer.Length) Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
        TxnLogFormat.WriteFrame(zxid, sessionId, cxid, time, type, body, _buffer.AsSpan(TxnLogFormat.FileHeaderSize + _pendingBytes, frameSize));

        if (_pendingBytes == 0) _pendingFirstZxid = zxid;
        _pendingBytes += frameSize;
        Volatile.Write(ref _lastZxid, zxid);
    }

    /// <summary>Writes all appended txns in one write and fsyncs once (when ForceSync). No-op when nothing is pending.</summary>
    public void Commit()
    {
        ThrowIfUnusable();
        if (_pendingBytes == 0) return;
        try
        {
            int start = TxnLogFormat.FileHeaderSize;
            bool newFile = _file is null;
            if (newFile)
            {
                OpenNewFile(_pendingFirstZxid);
                TxnLogFormat.WriteFileHeader(_buffer);
                start = 0;
            }
            var bytes = _buffer.AsSpan(start, TxnLogFormat.FileHeaderSize - start + _pendingBytes);
            Preallocate(_fileDataEnd + bytes.Length);
            _file!.Write(bytes);
            _fileDataEnd += bytes.Length;
            if (_options.ForceSync)
            {
                Fsync();
                if (newFile) StorageFiles.SyncDirectory(_directory);
            }
        }
        catch (Exception ex)
        {
            _failure = ex;
            _logger.LogError(ex, "Writing txn log {File} failed; the log accepts no more writes", _filePath);
            throw;
        }
        _pendingBytes = 0;
        Volatile.Write(ref _lastCommittedZxid, _lastZxid);
        if (_buffer.Length > RetainedBufferLimit) _buffer = new byte[InitialBufferSize];
    }

    /// <summary>Commits what is pending and closes the current file; the next Append starts a new one.</summary>
    public void RollLog()
    {
        ThrowIfUnusable();
        Commit();
        if (_file is null) return;
        var closed = _filePath;
        CloseFile();
        _logger.LogInformation("Rolled txn log: closed {File}", closed);
    }

    /// <summary>Closes the current file. Appended txns not yet committed are dropped: they were never acknowledged.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_file is null) return;
        if (_failure is not null)
        {
            _file.Dispose();
            _file = null;
            return;
        }
        try
        {
            CloseFile();
        }
        catch (IOException ex)
        {
            _logger.LogWarning(ex, "Closing txn log {File} failed", _filePath);
        }
    }

    private IEnumerable<TxnEntry> Scan(long afterZxid, bool repair)
    {
        var files = StorageFiles.List(_directory, StorageFiles.LogPrefix);
        // Start at the newest file that begins at or before afterZxid: older files hold only older txns.
        // The purger keeps exactly that file and newer ones, so both use the same rule.
        int first = 0;
        for (int i = 0; i < files.Count; i++)
        {
            if (files[i].Zxid <= afterZxid) first = i;
        }

        long previous = long.MinValue;
        for (int i = first; i < files.Count; i++)
        {
            var (nameZxid, path) = files[i];
            bool isNewest = i == files.Count - 1;
            bool hasEntries = false;
            TxnLogTail tail;
            string? reason;
            long goodEnd;
            long length;
            bool goodDataFollows;
            using (var reader = new TxnLogFileReader(path))
            {
                while (reader.TryReadNext(out var entry))
                {
                    if (!hasEntries && entry.Zxid != nameZxid)
                        throw new InvalidDataException($"{path}: its first txn has zxid 0x{entry.Zxid:x}, but the file name says 0x{nameZxid:x}.");
                    if (entry.Zxid <= previous)
                        throw new InvalidDataException($"{path}: zxid 0x{entry.Zxid:x} at offset {reader.GoodEnd} does not follow 0x{previous:x}.");
                    previous = entry.Zxid;
                    hasEntries = true;
                    if (repair && entry.Zxid > _lastZxid) _lastZxid = entry.Zxid;
                    if (entry.Zxid > afterZxid) yield return entry;
                }
                (tail, reason, goodEnd, length) = (reader.Tail, reader.TailReason, reader.GoodEnd, reader.Length);
                goodDataFollows = reader.GoodFrameFollowsCorruptFrame();
            }

            // A newest file without one txn (the crash came right after its header) is removed, so the
            // next file, named by the next zxid, cannot collide with it.
            if (tail == TxnLogTail.Clean && (hasEntries || !isNewest)) continue;
            reason ??= "nothing after the header";
            if (!isNewest && tail != TxnLogTail.ZeroFilled)
                throw new InvalidDataException(
                    $"{path} is corrupt at offset {goodEnd} ({reason}), but it is not the newest log file ({files[i + 1].Path} follows), " +
                    "so txns in between would be lost. Restore the file or the data directory from a backup.");
            if (goodDataFollows)
                throw new InvalidDataException(
                    $"{path} is corrupt at offset {goodEnd} ({reason}), and good txns follow it, so this is not a write cut short. " +
                    "Refusing to drop them; truncating the file at that offset by hand would discard them.");
            if (!repair)
            {
                if (isNewest) yield break;
                continue;
            }
            RepairTail(path, tail, reason, goodEnd, length, hasEntries);
        }
    }

    /// <summary>
    /// Within one epoch (high 32 bits) zxids count up by one, so a first replayed txn that skips ahead of the
    /// snapshot suggests missing log files. Only a warning: the caller knows whether zxids can be skipped.
    /// </summary>
    private void WarnOnGap(long afterZxid, long firstZxid)
    {
        if (afterZxid >> 32 == firstZxid >> 32 && firstZxid != afterZxid + 1)
            _logger.LogWarning("Txn log {Directory}: replay after zxid 0x{After:x} starts at 0x{First:x}; txns in between may be missing",
                _directory, afterZxid, firstZxid);
    }

    private void RepairTail(string path, TxnLogTail tail, string? reason, long goodEnd, long length, bool hasEntries)
    {
        var level = tail == TxnLogTail.ZeroFilled ? LogLevel.Information : LogLevel.Warning;
        if (!hasEntries)
        {
            File.Delete(path);
            StorageFiles.SyncDirectory(_directory);
            _logger.Log(level, "Txn log {File} holds no complete txn ({Reason} at offset {Offset}); deleted it", path, reason, goodEnd);
            return;
        }
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0))
        {
            stream.SetLength(goodEnd);
            stream.Flush(flushToDisk: true);
        }
        _logger.Log(level, "Txn log {File} ends in {Reason} at offset {Offset}; truncated it there, dropping {Dropped} bytes",
            path, reason, goodEnd, length - goodEnd);
    }

    private void OpenNewFile(long firstZxid)
    {
        var path = Path.Combine(_directory, StorageFiles.LogFileName(firstZxid));
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
        _filePath = path;
        _fileDataEnd = 0;
        _fileAllocated = 0;
        _logger.LogInformation("Opened txn log {File}", path);
    }

    private void Preallocate(long needed)
    {
        if (_options.PreallocSize is not { } chunk || chunk <= 0 || needed <= _fileAllocated) return;
        long length = (needed + chunk - 1) / chunk * chunk;
        _file!.SetLength(length);
        _fileAllocated = length;
    }

    private void Fsync()
    {
        long started = _time.GetTimestamp();
        _file!.Flush(flushToDisk: true);
        var elapsed = _time.GetElapsedTime(started);
        Volatile.Write(ref _lastFsyncTicks, elapsed.Ticks);
        Interlocked.Add(ref _totalFsyncTicks, elapsed.Ticks);
        Interlocked.Increment(ref _fsyncCount);
        if (elapsed > _options.FsyncWarningThreshold)
            _logger.LogWarning("fsync of txn log {File} took {Millis:F0} ms; every write waits for it", _filePath, elapsed.TotalMilliseconds);
    }

    /// <summary>Trims preallocated space so a closed file ends at its last txn, then closes it.</summary>
    private void CloseFile()
    {
        var file = _file!;
        _file = null;
        _filePath = null;
        using (file)
        {
            if (_fileAllocated > _fileDataEnd)
            {
                file.SetLength(_fileDataEnd);
                if (_options.ForceSync) file.Flush(flushToDisk: true);
            }
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is not null)
            throw new InvalidOperationException("An earlier txn log write failed; the log accepts no more writes.", _failure);
    }
}
