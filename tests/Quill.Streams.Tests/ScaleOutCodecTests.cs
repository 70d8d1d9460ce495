using System.Buffers;
using Quill.Streams.Api;
using Quill.Streams.Cluster;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Runtime;

namespace Quill.Streams.Tests;

/// <summary>The scale-out pieces that need no broker: element frames, sink frames, the assignment's share-out, the options it takes.</summary>
public sealed class ScaleOutCodecTests
{
    private sealed record Word(string Text, long Count);

    private static List<StreamElement<T>> RoundTrip<T>(IEnumerable<StreamElement<T>> elements)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var element in elements) ElementCodec.Write(element, buffer);
        var frames = new FrameReader(new MemoryStream(buffer.WrittenMemory.ToArray()));
        var read = new List<StreamElement<T>>();
        while (frames.NextAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult() is { } frame) read.Add(ElementCodec.Read<T>(frame.Span));
        return read;
    }

    [Fact]
    public void records_and_control_elements_come_back_as_they_were_written_in_order()
    {
        StreamElement<Word>[] written =
        [
            StreamElement<Word>.Record(new Word("to", 2), 1_700_000_000_123, 5),
            StreamElement<Word>.Control(ElementKind.Watermark, 1_700_000_000_000, 5),
            StreamElement<Word>.Control(ElementKind.WatermarkStatus, 1, 5),
            StreamElement<Word>.Record(new Word("ünïcödé words", long.MaxValue), long.MinValue, 5),
            StreamElement<Word>.Control(ElementKind.Barrier, 42, 5),
            StreamElement<Word>.Record(null!, 0, 5),
            StreamElement<Word>.Control(ElementKind.TableLoaded, 4, 5),
            StreamElement<Word>.Control(ElementKind.End, 0, 5),
        ];
        Assert.Equal(written, RoundTrip(written));
    }

    [Fact]
    public void kafka_records_with_byte_keys_and_many_frames_past_the_batch_size_round_trip()
    {
        var written = Enumerable.Range(0, 5000)
            .Select(i => StreamElement<KafkaRecord<byte[]?, string?>>.Record(
                new KafkaRecord<byte[]?, string?>("lines", i % 4, i, 1000 + i, i % 3 == 0 ? null : [(byte)i, 0, 255], i % 5 == 0 ? null : $"line {i}"), 1000 + i, i % 8))
            .ToList();
        var read = RoundTrip(written);
        Assert.Equal(written.Count, read.Count);
        for (int i = 0; i < written.Count; i++)
        {
            Assert.Equal(written[i].Value.Key, read[i].Value.Key);
            Assert.Equal(written[i] with { Value = read[i].Value }, read[i]);
            Assert.Equal(written[i].Value with { Key = read[i].Value.Key }, read[i].Value);
        }
    }

    [Fact]
    public void a_truncated_frame_is_an_error_not_a_short_record()
    {
        var buffer = new ArrayBufferWriter<byte>();
        ElementCodec.Write(StreamElement<string>.Record("hello", 1, 0), buffer);
        var bytes = buffer.WrittenMemory.ToArray()[..^2];
        var frames = new FrameReader(new MemoryStream(bytes));
        Assert.Throws<EndOfStreamException>(() => frames.NextAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult());
    }

    [Fact]
    public void subtasks_are_shared_out_by_instance_id_and_the_same_inputs_give_the_same_assignment()
    {
        var assignment = Assignment.Compute(7, 5, "b", "/chk", [("c", "h:3"), ("a", "h:1"), ("b", "h:2")]);
        Assert.Equal(["a", "b", "c"], assignment.Instances.Select(i => i.Instance));
        Assert.Equal([0, 3], assignment.Of("a")!.Subtasks);
        Assert.Equal([1, 4], assignment.Of("b")!.Subtasks);
        Assert.Equal([2], assignment.Of("c")!.Subtasks);
        Assert.Equal("c", assignment.OwnerOf(2).Instance);
        var parsed = Assignment.Parse(assignment.ToBytes());
        Assert.Equal(assignment.ToBytes(), parsed.ToBytes());
        Assert.Equal(7, parsed.Generation);
        // More instances than subtasks: the extra ones get none and are left out, never the leader (followers connect to it).
        Assert.Equal(["a", "b"], Assignment.Compute(1, 2, "a", null, [("a", null), ("b", null), ("c", null)]).Instances.Select(i => i.Instance));
        var leaderLast = Assignment.Compute(1, 2, "c", null, [("a", null), ("b", null), ("c", null)]);
        Assert.Equal(["a", "c"], leaderLast.Instances.Select(i => i.Instance));
        Assert.Equal([1], leaderLast.Of("c")!.Subtasks);
        Assert.Equal(["c"], Assignment.Compute(1, 1, "c", null, [("a", null), ("b", null), ("c", null)]).Instances.Select(i => i.Instance));
    }

    [Fact]
    public void exactly_once_with_scale_out_is_accepted_and_a_bad_data_host_is_refused_saying_why()
    {
        // Exactly-once with scale-out: the followers' sink tasks write through the leader (ScaleOutExactlyOnceTests).
        StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = "127.0.0.1:9", CheckpointDirectory = "/tmp/x", DeliveryGuarantee = DeliveryGuarantee.ExactlyOnce,
            HighAvailability = new HighAvailabilityOptions { Keeper = "127.0.0.1:2181", ScaleOut = true },
        });
        // Still needs checkpointing, as exactly-once always does.
        Assert.Contains("CheckpointDirectory", Assert.Throws<ArgumentException>(() => StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = "127.0.0.1:9", DeliveryGuarantee = DeliveryGuarantee.ExactlyOnce,
            HighAvailability = new HighAvailabilityOptions { Keeper = "127.0.0.1:2181", ScaleOut = true },
        })).Message);
        // The data host is an address the other instances connect to.
        Assert.Contains("DataHost", Assert.Throws<ArgumentException>(() => StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = "127.0.0.1:9", CheckpointDirectory = "/tmp/x",
            HighAvailability = new HighAvailabilityOptions { Keeper = "127.0.0.1:2181", ScaleOut = true, DataHost = "not an address" },
        })).Message);
        // At-least-once too.
        StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = "127.0.0.1:9", CheckpointDirectory = "/tmp/x",
            HighAvailability = new HighAvailabilityOptions { Keeper = "127.0.0.1:2181", ScaleOut = true },
        });
    }

    /// <summary>What a follower's exactly-once sink task sends the leader: records as the sink made them, barriers, the end.</summary>
    [Fact]
    public async Task sink_frames_carry_records_barriers_and_the_end_as_written()
    {
        var stamped = new Confluent.Kafka.Message<byte[]?, byte[]?>
        {
            Key = "wörd"u8.ToArray(), Value = "12"u8.ToArray(),
            Timestamp = new Confluent.Kafka.Timestamp(1_700_000_000_123, Confluent.Kafka.TimestampType.CreateTime),
        };
        var bare = new Confluent.Kafka.Message<byte[]?, byte[]?> { Key = null, Value = [] };
        var stream = new MemoryStream([.. SinkFrames.EncodeRecord("counts-ü", stamped), .. SinkFrames.EncodeControl(SinkFrames.Barrier, 42),
            .. SinkFrames.EncodeRecord("t", bare), .. SinkFrames.EncodeControl(SinkFrames.End, 0)]);
        var frames = new FrameReader(stream);
        async Task<byte[]> Next() => (await frames.NextAsync(CancellationToken.None))!.Value.ToArray();

        var first = await Next();
        Assert.Equal(SinkFrames.Record, first[0]);
        var (topic, message) = SinkFrames.DecodeRecord(first);
        Assert.Equal("counts-ü", topic);
        Assert.Equal(stamped.Key, message.Key);
        Assert.Equal(stamped.Value, message.Value);
        Assert.Equal(1_700_000_000_123, message.Timestamp.UnixTimestampMs);
        var barrier = await Next();
        Assert.Equal(SinkFrames.Barrier, barrier[0]);
        Assert.Equal(42, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(barrier.AsSpan(1)));
        var (bareTopic, bareMessage) = SinkFrames.DecodeRecord(await Next());
        Assert.Equal("t", bareTopic);
        Assert.Null(bareMessage.Key);
        Assert.Equal([], bareMessage.Value!);
        Assert.Equal(Confluent.Kafka.TimestampType.NotAvailable, bareMessage.Timestamp.Type);
        Assert.Equal(SinkFrames.End, (await Next())[0]);
        Assert.Null(await frames.NextAsync(CancellationToken.None));
    }

    private sealed record WordKey(string Text, int Length);

    private enum Colour { Red, Green, Blue }

    /// <summary>
    /// A key's slot must be the same in every process (the sender's process picks the task, the owner's process restores
    /// its state), so these are fixed values: a hash randomized per process (string.GetHashCode, or a record's or tuple's
    /// GetHashCode, which mixes its strings') would give other slots in other runs and fail here.
    /// </summary>
    [Fact]
    public void a_keys_slot_is_a_fixed_function_of_the_key_the_same_in_every_process()
    {
        const int slots = 1_000_003;
        Assert.Equal(121367, KeySlots.SlotOf("word", slots));
        Assert.Equal(725038, KeySlots.SlotOf(new WordKey("word", 4), slots));
        Assert.Equal(175707, KeySlots.SlotOf(("word", 4), slots));
        Assert.Equal(42, KeySlots.SlotOf(42, slots));
        Assert.Equal(2, KeySlots.SlotOf(Colour.Blue, slots));
        // Equal keys, equal slots; and the keys spread over the tasks.
        Assert.Equal(KeySlots.SlotOf(new WordKey("w", 1), 4), KeySlots.SlotOf(new WordKey("w", 1), 4));
        Assert.Equal(4, Enumerable.Range(0, 100).Select(i => KeySlots.SlotOf(new WordKey($"w{i}", i), 4)).Distinct().Count());
    }
}
