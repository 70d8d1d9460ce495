namespace Quill.Broker.Log;

/// <summary>
/// Opens a partition directory and brings it to a consistent state (Kafka's LogLoader):
/// <list type="number">
/// <item>removes leftovers: compaction's <c>*.cleaned</c> files, temporary files, indexes without a log;</item>
/// <item>loads each segment; segments below the recovery point are trusted if their indexes pass a sanity check,
/// and rebuilt by a scan otherwise (e.g. an index file was deleted or torn);</item>
/// <item>after an unclean shutdown, scans the segment holding the recovery point and all later ones: every batch's
/// framing, CRC-32C and offsets are checked, indexes rebuilt, and the log cut at the first bad byte (a torn or
/// corrupt tail); segments after a cut are deleted;</item>
/// <item>restores the log end offset, clamps the log start offset, and rebuilds producer state (idempotence and
/// ongoing transactions) from the newest snapshot plus the batches after it;</item>
/// <item>rebuilds the aborted transaction index of every segment that was rescanned or whose index file was missing
/// or torn: that needs the ongoing transactions as of the segment's start, so the replay then starts from a
/// snapshot at or before the first such segment (or the log start), and re-records each ABORT marker it meets there.</item>
/// </list>
/// </summary>
public static class LogLoader
{
    public static PartitionLog Load(string dir, string topic, int partition, LogConfig config, TimeProvider time,
        long recoveryPoint, long logStartOffset, bool hadCleanShutdown)
    {
        Directory.CreateDirectory(dir);
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        RemoveLeftovers(dir);

        var bases = Directory.EnumerateFiles(dir, "*" + LogFileNames.LogSuffix)
            .Select(p => LogFileNames.TryParseOffset(p, LogFileNames.LogSuffix, out long b) ? b : -1)
            .Where(b => b >= 0).Order().ToList();
        var segments = new List<LogSegment>();
        foreach (long b in bases) segments.Add(new LogSegment(dir, b, config, now));

        // The segment holding the recovery point, and all after it, were not known to be flushed.
        int firstUnflushed = segments.Count;
        var rebuildTxnIndex = new HashSet<LogSegment>();
        if (!hadCleanShutdown)
            for (int i = 0; i < segments.Count; i++)
                if (i == segments.Count - 1 || segments[i + 1].BaseOffset > recoveryPoint) { firstUnflushed = i; break; }

        for (int i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            bool cut = false;
            if (i >= firstUnflushed || !segment.TryLoadWithoutScan())
            {
                cut = segment.Recover() > 0;
                rebuildTxnIndex.Add(segment);
            }
            bool misordered = i > 0 && segment.BaseOffset < segments[i - 1].NextOffset;
            if (cut || misordered)
            {
                // Nothing after a corrupt point can be trusted; Kafka deletes the later segments too.
                int from = misordered ? i : i + 1;
                foreach (var later in segments.Skip(from))
                {
                    later.DeleteFiles();
                    later.Dispose();
                }
                segments.RemoveRange(from, segments.Count - from);
                if (misordered) break;
            }
        }

        long nextOffset = segments.Count > 0 ? segments[^1].NextOffset : logStartOffset;
        if (segments.Count == 0 || logStartOffset > nextOffset)
        {
            // Empty, or DeleteRecords moved the start past everything on disk: begin afresh at the start offset.
            foreach (var s in segments) { s.DeleteFiles(); s.Dispose(); }
            segments.Clear();
            nextOffset = Math.Max(logStartOffset, nextOffset);
            segments.Add(new LogSegment(dir, nextOffset, config, now));
        }
        foreach (var s in segments) s.SetRollBaseFromFirstBatch(now);
        logStartOffset = Math.Max(logStartOffset, segments[0].BaseOffset);
        recoveryPoint = hadCleanShutdown ? nextOffset : Math.Min(recoveryPoint, nextOffset);

        foreach (var s in segments)
            if (s.TxnIndex.WasMissing || !s.TxnIndex.IsSane) rebuildTxnIndex.Add(s);
        rebuildTxnIndex.IntersectWith(segments); // not those deleted after a cut
        foreach (var s in rebuildTxnIndex) s.TxnIndex.Clear();
        long rebuildFrom = rebuildTxnIndex.Count > 0 ? rebuildTxnIndex.Min(s => s.BaseOffset) : long.MaxValue;

        var producers = new ProducerStateManager(dir);
        long replayFrom = producers.LoadSnapshot(segments[0].BaseOffset, nextOffset, rebuildFrom);
        ReplayProducerState(producers, segments, replayFrom, rebuildTxnIndex);
        producers.CommitPending(nextOffset);
        producers.TruncateHead(logStartOffset);

        return new PartitionLog(dir, topic, partition, config, time, [.. segments], logStartOffset, recoveryPoint, producers);
    }

    /// <summary>
    /// Replays every batch from <paramref name="replayFrom"/> into <paramref name="producers"/>, re-recording the
    /// aborted transactions of the segments in <paramref name="rebuildTxnIndex"/> (cleared by the caller).
    /// </summary>
    internal static void ReplayProducerState(ProducerStateManager producers, IEnumerable<LogSegment> segments, long replayFrom,
        IReadOnlySet<LogSegment> rebuildTxnIndex)
    {
        foreach (var segment in segments)
        {
            if (segment.NextOffset <= replayFrom) continue;
            bool rebuild = rebuildTxnIndex.Contains(segment);
            int position = segment.TranslateOffset(replayFrom, segment.Size)?.Position ?? segment.Size;
            while (segment.ReadHeader(position, segment.Size) is { } header)
            {
                var marker = header.IsControl && header.HasProducerId ? ControlMarker.Parse(segment.ReadBatch(position, header)) : null;
                var completed = producers.Replay(header, marker);
                if (rebuild && marker is { Commit: false } && completed is { FirstOffset: >= 0 } txn)
                    segment.TxnIndex.Append(new AbortedTxn(txn.ProducerId, txn.FirstOffset, txn.LastOffset, txn.LastStableOffset));
                position += header.SizeInBytes;
            }
        }
    }

    private static void RemoveLeftovers(string dir)
    {
        foreach (var path in Directory.EnumerateFiles(dir))
        {
            string name = Path.GetFileName(path);
            if (name.EndsWith(LogFileNames.CleanedSuffix, StringComparison.Ordinal) || name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                File.Delete(path);
                continue;
            }
            foreach (var suffix in new[] { LogFileNames.IndexSuffix, LogFileNames.TimeIndexSuffix, LogFileNames.TxnIndexSuffix })
                if (LogFileNames.TryParseOffset(path, suffix, out long b) && !File.Exists(LogFileNames.LogFile(dir, b)))
                    File.Delete(path);
        }
    }
}
