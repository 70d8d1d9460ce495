using Quill.Streams.Checkpoints;

namespace Quill.Streams.Cluster;

/// <summary>
/// The leader's side of one generation's control connections, one per follower: the leader's checkpoint coordinator
/// sees each follower as one more barrier source (<see cref="FollowerLink"/>), and what a follower's tasks report
/// (offsets, snapshots, acknowledgements) is handed to the coordinator as if its tasks ran here, so a checkpoint
/// completes only when every subtask of the job, in every process, has passed the barrier. A follower that does not
/// connect in time, that reports a failure, or whose connection closes fails the generation.
/// </summary>
internal sealed class LeaderControl : IDisposable
{
    private readonly Dictionary<string, FollowerLink> _links;
    private readonly ClusterRun _run;
    private readonly CheckpointCoordinator _checkpoints;
    private readonly ITimer _readyTimeout;

    public LeaderControl(ClusterRun run, CheckpointCoordinator checkpoints, TimeSpan readyTimeout)
    {
        _run = run;
        _checkpoints = checkpoints;
        _links = run.Assignment.Instances.Where(i => i.Instance != run.InstanceId).ToDictionary(i => i.Instance, i => new FollowerLink(i.Instance));
        foreach (var link in _links.Values) checkpoints.AddSource(link);
        checkpoints.Completed += TellCompleted;
        _readyTimeout = TimeProvider.System.CreateTimer(_ =>
        {
            var missing = _links.Values.Where(l => !l.Connected).Select(l => l.Instance).ToList();
            if (missing.Count > 0)
                run.Fail(new TimeoutException($"instance(s) {string.Join(", ", missing)} did not join generation {run.Generation} within {readyTimeout.TotalSeconds:0} s"));
        }, null, readyTimeout, Timeout.InfiniteTimeSpan);
    }

    public bool Expects(string? instance) => instance is not null && _links.ContainsKey(instance);

    public async Task ServeAsync(string instance, Stream stream)
    {
        var link = _links[instance];
        try
        {
            link.Attach(stream);
            var frames = new FrameReader(stream, FrameReader.ControlMaxFrame);
            while (await frames.NextAsync(CancellationToken.None) is { } frame)
            {
                // Once the generation has failed, its checkpoint in progress must not complete: the next generation may
                // already be restoring an older one, and (exactly-once) the failed generation's output is aborted.
                if (_run.Failure is not null) return;
                var message = JsonFrames.Decode<ControlMessage>(frame);
                switch (message.Type)
                {
                    case ControlTypes.Offsets:
                        _checkpoints.AddSourceOffsets(message.Id, message.Source!, message.Offsets ?? []);
                        break;
                    case ControlTypes.Snapshot:
                        _checkpoints.AddOperatorSnapshot(message.Id, message.Operator!, message.Snapshot!);
                        break;
                    case ControlTypes.Ack:
                        // The last acknowledgement completes the checkpoint here (writes it), as a local task's would.
                        _checkpoints.Acknowledge(message.Id);
                        break;
                    case ControlTypes.Failed:
                        _run.Fail(new InvalidOperationException($"instance {instance} failed: {message.Error}"));
                        return;
                }
            }
            if (_run.Failure is null) _run.Fail(new IOException($"instance {instance} left (its control connection closed)"));
        }
        catch (Exception e)
        {
            _run.Fail(e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException
                ? new IOException($"instance {instance} left (its control connection broke: {e.Message})", e)
                : e);
        }
    }

    /// <summary>Every follower hears of a completed checkpoint, as the leader's own sources do (they commit its offsets).</summary>
    private void TellCompleted(Checkpoint checkpoint)
    {
        var message = new ControlMessage { Type = ControlTypes.Completed, Id = checkpoint.Id, Sources = checkpoint.SourceOffsets };
        foreach (var link in _links.Values) link.Send(message);
    }

    public void Dispose()
    {
        _checkpoints.Completed -= TellCompleted;
        _readyTimeout.Dispose();
    }

    /// <summary>A follower, as the coordinator's barrier source: a barrier asked for before it connected is sent once it has.</summary>
    private sealed class FollowerLink(string instance) : IBarrierSource
    {
        private readonly Lock _lock = new();
        private Stream? _stream;
        private long _requested;

        public string Instance { get; } = instance;

        public bool Connected
        {
            get
            {
                lock (_lock) return _stream is not null;
            }
        }

        public void Attach(Stream stream)
        {
            lock (_lock)
            {
                _stream = stream;
                if (_requested > 0) Send(_requested);
            }
        }

        public void RequestBarrier(long checkpointId)
        {
            lock (_lock)
            {
                _requested = checkpointId;
                if (_stream is null) return;
                try
                {
                    Send(checkpointId);
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException)
                {
                    // The reading side sees the connection go and fails the generation.
                }
            }
        }

        /// <summary>Sends a message if connected; a broken connection is the reading side's to report.</summary>
        public void Send(ControlMessage message)
        {
            lock (_lock)
            {
                if (_stream is null) return;
                try
                {
                    _stream.Write(JsonFrames.Encode(message));
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException)
                {
                }
            }
        }

        private void Send(long checkpointId) => _stream!.Write(JsonFrames.Encode(new ControlMessage { Type = ControlTypes.Barrier, Id = checkpointId }));
    }
}
