using Quill.Streams.Checkpoints;

namespace Quill.Streams.Cluster;

/// <summary>
/// A follower's control connection to its leader, for one generation: barriers come down (the follower's sources
/// inject them), what the follower's tasks report for checkpoints goes up (<see cref="ICheckpointRelay"/>), and a
/// failure here is reported before the follower's part ends. The connection closing fails the follower's part: the
/// leader left or started another generation.
/// </summary>
internal sealed class LeaderLink : ICheckpointRelay, IDisposable
{
    private readonly Stream _stream;
    private readonly Lock _writeLock = new();

    private LeaderLink(Stream stream) => _stream = stream;

    /// <summary>
    /// Connects first, before the follower restores anything, so that a failure from then on (a checkpoint it cannot
    /// read) reaches the leader at once; <see cref="Start"/> then takes the leader's messages (they wait in the socket).
    /// </summary>
    public static async Task<LeaderLink> ConnectAsync(ClusterRun run, CancellationToken abort)
    {
        var leader = run.Assignment.Of(run.Assignment.Leader)
            ?? throw new InvalidOperationException($"the leader {run.Assignment.Leader} is not in generation {run.Generation}");
        var hello = new Hello { Kind = Hello.Control, Generation = run.Generation, Instance = run.InstanceId };
        var stream = await DataEndpoint.ConnectAsync(leader.Endpoint ?? throw new InvalidOperationException("the leader has no data endpoint"), hello, abort);
        var link = new LeaderLink(stream);
        run.Track(link);
        return link;
    }

    /// <summary>Barriers and completed checkpoints from the leader go to <paramref name="checkpoints"/> from now on.</summary>
    public void Start(ClusterRun run, CheckpointCoordinator checkpoints, CancellationToken abort) =>
        _ = Task.Run(() => ReadAsync(run, checkpoints, abort));

    private async Task ReadAsync(ClusterRun run, CheckpointCoordinator checkpoints, CancellationToken abort)
    {
        try
        {
            var frames = new FrameReader(_stream, FrameReader.ControlMaxFrame);
            while (await frames.NextAsync(abort) is { } frame)
            {
                var message = JsonFrames.Decode<ControlMessage>(frame);
                if (message.Type == ControlTypes.Barrier) checkpoints.RequestBarrierFromLeader(message.Id);
                else if (message.Type == ControlTypes.Completed) checkpoints.CompletedByLeader(new Checkpoint { Id = message.Id, SourceOffsets = message.Sources ?? [] });
            }
            run.Fail(new IOException($"the leader {run.Assignment.Leader} closed the control connection (it left, or started another generation)"));
        }
        catch (Exception e) when (!abort.IsCancellationRequested)
        {
            run.Fail(new IOException($"the control connection to the leader {run.Assignment.Leader} broke: {e.Message}", e));
        }
        catch (Exception)
        {
            // The generation ended here first.
        }
    }

    private void Send(ControlMessage message)
    {
        byte[] frame = JsonFrames.Encode(message);
        lock (_writeLock) _stream.Write(frame);
    }

    public void SourceOffsets(long checkpointId, string sourceId, IEnumerable<KeyValuePair<string, long>> offsets) =>
        Send(new ControlMessage { Type = ControlTypes.Offsets, Id = checkpointId, Source = sourceId, Offsets = new(offsets) });

    public void OperatorSnapshot(long checkpointId, string operatorId, OperatorSnapshot snapshot) =>
        Send(new ControlMessage { Type = ControlTypes.Snapshot, Id = checkpointId, Operator = operatorId, Snapshot = snapshot });

    public void Acknowledge(long checkpointId) => Send(new ControlMessage { Type = ControlTypes.Ack, Id = checkpointId });

    /// <summary>Tells the leader this follower's part failed, so it starts the next generation at once; best effort.</summary>
    public void ReportFailure(Exception failure)
    {
        try
        {
            Send(new ControlMessage { Type = ControlTypes.Failed, Error = failure.Message });
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
        }
    }

    /// <summary>Closes the connection; a write blocked on a leader that stopped reading ends with an error.</summary>
    public void Dispose() => _stream.Dispose();
}
