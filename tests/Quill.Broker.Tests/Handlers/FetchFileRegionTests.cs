using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Log;
using Quill.Broker.Tests.Log;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// Fetched records as file regions: a response with regions spliced out of the encoding (what the connection sends,
/// reading each region into its pipe) is the same bytes as one with the records copied in, and a region a fetch holds
/// is still sent whole after retention closes and unlinks its segment.
/// </summary>
public sealed class FetchFileRegionTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = FakeClocks.New();

    public void Dispose() => _dir.Dispose();

    private PartitionLog Open(LogConfig config) => PartitionLog.Open(_dir.Partition(), "t", 0, config, _clock);

    private static FetchResponseData Response(params ReadOnlyMemory<byte>[] records)
    {
        var response = new FetchResponseData();
        var topic = new FetchResponseData.ResponsesItem { Topic = "t" };
        response.Responses.Add(topic);
        for (int i = 0; i < records.Length; i++)
            topic.Partitions.Add(new() { PartitionIndex = i, HighWatermark = 100, LastStableOffset = 100, LogStartOffset = 0, Records = records[i] });
        return response;
    }

    private static KafkaWriter Encode(FetchResponseData response, short version, bool splice)
    {
        var writer = new KafkaWriter { SpliceExternalBytes = splice };
        MessageFrames.WriteResponse(writer, version, 7, response);
        return writer;
    }

    /// <summary>What the connection sends: the encoded buffer with each spliced region read in at its place.</summary>
    private static byte[] Assemble(KafkaWriter writer)
    {
        var output = new MemoryStream();
        int at = 0;
        foreach (var splice in writer.Splices)
        {
            output.Write(writer.WrittenSpan[at..splice.Position]);
            var region = new byte[splice.Length];
            splice.Bytes.ReadAt(splice.Start, region);
            output.Write(region);
            at = splice.Position;
        }
        output.Write(writer.WrittenSpan[at..]);
        return output.ToArray();
    }

    [Theory]
    [InlineData(4)]
    [InlineData(11)]
    [InlineData(12)]
    public void a_response_with_spliced_regions_is_the_same_bytes_as_one_with_the_records_copied_in(short version)
    {
        using var log = Open(new LogConfig { SegmentBytes = 400 });
        for (int i = 0; i < 12; i++) log.Append(Batches.Values($"value-{i}", new string('x', 40)));
        Assert.True(log.Segments.Count > 2);
        var first = log.Read(0, 1 << 20).Records;
        var later = log.Read(log.LogEndOffset - 1, 1 << 20).Records;
        using var firstHeld = first.Hold();
        using var laterHeld = later.Hold();

        using var spliced = Encode(Response(firstHeld.Memory, ReadOnlyMemory<byte>.Empty, laterHeld.Memory), version, splice: true);
        using var copied = Encode(Response(first.ToArray(), ReadOnlyMemory<byte>.Empty, later.ToArray()), version, splice: false);

        Assert.Equal(2, spliced.Splices.Count);
        Assert.Equal(first.Length + later.Length, spliced.SplicedLength);
        byte[] sent = Assemble(spliced);
        Assert.Equal(copied.ToArray(), sent);
        // Read back as a client would: the frame size counts the spliced bytes and the records are the log's.
        Assert.Equal(sent.Length - 4, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(sent));
        var (correlationId, body) = MessageFrames.ReadResponse<FetchResponseData>(sent.AsMemory(4), ApiKey.Fetch, version);
        Assert.Equal(7, correlationId);
        Assert.Equal(first.ToArray(), body.Responses[0].Partitions[0].Records!.Value.ToArray());
        Assert.Equal(later.ToArray(), body.Responses[0].Partitions[2].Records!.Value.ToArray());
    }

    [Fact]
    public void records_from_a_region_are_read_into_a_writer_that_does_not_splice()
    {
        using var log = Open(LogConfig.Default);
        log.Append(Batches.Values("a", "b", "c"));
        var records = log.Read(0, 1 << 20).Records;
        using var held = records.Hold();
        using var writer = Encode(Response(held.Memory), 12, splice: false);
        Assert.Empty(writer.Splices);
        var (_, body) = MessageFrames.ReadResponse<FetchResponseData>(writer.WrittenMemory[4..], ApiKey.Fetch, 12);
        Assert.Equal(["a", "b", "c"], Batches.Records(body.Responses[0].Partitions[0].Records!.Value.ToArray()).Select(r => Batches.Text(r.Value)));
    }

    [Fact]
    public void a_region_held_by_a_fetch_is_sent_whole_after_retention_closes_and_unlinks_its_segment()
    {
        // file.delete.delay.ms=0: without the hold, the segment's file would be closed before the response is written.
        using var log = Open(new LogConfig { SegmentBytes = 300, RetentionMs = 1000, FileDeleteDelayMs = 0 });
        for (int i = 0; i < 10; i++) log.Append(Batches.Make(CompressionType.None, _clock.NowMs, $"v{i}"));
        var records = log.Read(0, 1 << 20).Records;
        byte[] expected = records.ToArray();
        var held = records.Hold();
        using var writer = Encode(Response(held.Memory), 12, splice: true);

        string oldest = log.Segments[0].LogPath;
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.True(log.DeleteOldSegments() > 0);
        Assert.Equal(0, log.CloseRetiredSegments()); // closed and unlinked at once
        Assert.False(File.Exists(oldest));

        var (_, body) = MessageFrames.ReadResponse<FetchResponseData>(Assemble(writer).AsMemory(4), ApiKey.Fetch, 12);
        Assert.Equal(expected, body.Responses[0].Partitions[0].Records!.Value.ToArray());

        ((IDisposable)held).Dispose(); // the region reads nothing more
        Assert.Throws<ObjectDisposedException>(() => held.ReadAt(0, new byte[1]));
        // The descriptor closes with the last hold. A rolled segment's background fsync holds it too while it runs (slow
        // on a busy disk), so wait for that; then a fetch that found the range before the segment went but holds it only
        // now is refused (NOT_LEADER_OR_FOLLOWER).
        Assert.True(SpinWait.SpinUntil(() => !CanHold(records), TimeSpan.FromSeconds(60)), "the segment's descriptor stayed open after every hold was released");
        Assert.Throws<ObjectDisposedException>(() => records.Hold());
    }

    private static bool CanHold(FileRecords records)
    {
        try
        {
            ((IDisposable)records.Hold()).Dispose();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }
}
