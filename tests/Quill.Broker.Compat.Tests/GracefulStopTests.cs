using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Compat.Tests;

/// <summary>SIGTERM to `quill start`: the host stops the broker (draining its connections), then Keeper, and exits 0.</summary>
public sealed class GracefulStopTests
{
    [Fact]
    public async Task Sigterm_answers_a_waiting_fetch_then_stops_broker_before_keeper_and_exits_0()
    {
        await using var broker = await BrokerProcess.StartAsync();
        using var connection = await RawKafkaConnection.ConnectAsync(broker.KafkaPort);
        // A long poll on a partition that exists from the start and stays empty: it would wait a minute.
        var fetch = KafkaApis.Fetch.Request.New().SetInt("ReplicaId", -1).SetInt("MaxWaitMs", 60_000).SetInt("MinBytes", 1).SetInt("MaxBytes", 1 << 20);
        fetch.AddElement("Topics").SetString("Topic", "__consumer_offsets")
            .AddElement("Partitions").SetInt("Partition", 0).SetInt("FetchOffset", 0).SetInt("PartitionMaxBytes", 1 << 20);
        int id = await connection.SendAsync(KafkaApis.Fetch, 11, fetch);
        // The long poll is waiting (no answer within half a second), and by then the broker has read it.
        Assert.Null(await ReadOrNullAsync(connection, TimeSpan.FromMilliseconds(500)));

        var exitCode = await broker.TerminateAsync(TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, $"exit code {exitCode?.ToString() ?? "(still running)"}\n{broker.Diagnostics()}");

        // The waiting fetch was answered (empty) before the connection closed, not cut off.
        var frame = await connection.ReadFrameAsync(TimeSpan.FromSeconds(10));
        Assert.True(frame is not null, broker.Diagnostics());
        var (correlationId, body) = KafkaFrames.DecodeResponse(frame!, KafkaApis.Fetch, 11);
        Assert.Equal(id, correlationId);
        Assert.Equal(0, body.GetInt16("ErrorCode"));
        Assert.Null(await connection.ReadFrameAsync(TimeSpan.FromSeconds(10)));

        // In order: the broker stops (closing its Keeper session), then Keeper.
        string output = broker.Output;
        int[] at =
        [
            output.IndexOf("Broker shutting down", StringComparison.Ordinal),
            output.IndexOf("Broker 0 stopped", StringComparison.Ordinal),
            output.IndexOf("Keeper shutting down", StringComparison.Ordinal),
            output.IndexOf("Keeper stopped", StringComparison.Ordinal),
        ];
        Assert.True(at.All(i => i >= 0) && at.SequenceEqual(at.Order()), $"stop lines missing or out of order\n{broker.Diagnostics()}");
    }

    private static async Task<byte[]?> ReadOrNullAsync(RawKafkaConnection connection, TimeSpan wait)
    {
        try
        {
            return await connection.ReadFrameAsync(wait);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
