using Quill.Streams.Checkpoints;
using Quill.Streams.Cluster;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.HighAvailability;
using Quill.Streams.Runtime;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Api;

/// <summary>
/// A job: sources, transformations and sinks declared through the fluent API (Flink's StreamExecutionEnvironment),
/// then run with <see cref="RunAsync"/>. Each stage runs <see cref="StreamJobOptions.Parallelism"/> tasks in this
/// process: Map, Filter and FlatMap run in the task of what feeds them; KeyBy sends each record over a channel to the
/// task that owns its key.
/// </summary>
public sealed class StreamJob
{
    private readonly List<IStage> _stages = [];
    private int _runs;
    private int _operatorCount;
    /// <summary>Where an exactly-once job keeps its commit marker (its first source topic: one that exists), looked up when it runs.</summary>
    private Func<string>? _markerTopic;
    /// <summary>Every stateful operator's id (sources and keyed functions), and the uids some were given.</summary>
    private readonly List<string> _statefulIds = [];
    private readonly Dictionary<string, string> _uids = new(StringComparer.Ordinal);
    /// <summary>The running checkpoint coordinator (null when not running, or a standby).</summary>
    private volatile CheckpointCoordinator? _coordinator;

    private StreamJob(StreamJobOptions options)
    {
        options.Validate();
        Options = options;
    }

    public static StreamJob Create(StreamJobOptions options) => new(options);

    public static StreamJob Create(string bootstrapServers, string jobName = "job", int parallelism = 1) =>
        new(new StreamJobOptions { BootstrapServers = bootstrapServers, JobName = jobName, Parallelism = parallelism });

    public StreamJobOptions Options { get; }

    /// <summary>Reads <paramref name="topics"/>: each record with its place, timestamp, key and value.</summary>
    public DataStream<KafkaRecord<TKey, TValue>> FromKafka<TKey, TValue>(IEnumerable<string> topics, StartFrom start,
        Serde<TKey> keySerde, Serde<TValue> valueSerde, WatermarkStrategy<KafkaRecord<TKey, TValue>>? watermarks = null)
    {
        var topicList = topics.ToList();
        if (topicList.Count == 0) throw new ArgumentException("a source needs at least one topic", nameof(topics));
        var stream = new DataStream<KafkaRecord<TKey, TValue>>(this);
        _markerTopic ??= () => topicList[0];
        stream.OperatorId = NextOperatorId("source");
        _stages.Add(new KafkaSourceStage<TKey, TValue>(stream.OperatorId, topicList, null, start, keySerde, valueSerde, watermarks, stream));
        return stream;
    }

    /// <summary>
    /// Reads every topic whose whole name matches <paramref name="pattern"/> (Flink's topic pattern; topics whose names
    /// start with "__", the brokers' own, are left out): each record with its place, timestamp, key and value. The
    /// topics are matched when the job (or a restart of it) starts: a topic created later is read from the next start
    /// on. Matching no topic at all is an error, so a mistyped pattern does not read nothing in silence.
    /// </summary>
    public DataStream<KafkaRecord<TKey, TValue>> FromKafka<TKey, TValue>(System.Text.RegularExpressions.Regex pattern, StartFrom start,
        Serde<TKey> keySerde, Serde<TValue> valueSerde, WatermarkStrategy<KafkaRecord<TKey, TValue>>? watermarks = null)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var stream = new DataStream<KafkaRecord<TKey, TValue>>(this);
        _markerTopic ??= () => KafkaSourceStage<TKey, TValue>.MatchingTopics(Options, pattern)[0];
        stream.OperatorId = NextOperatorId("source");
        _stages.Add(new KafkaSourceStage<TKey, TValue>(stream.OperatorId, [], pattern, start, keySerde, valueSerde, watermarks, stream));
        return stream;
    }

    /// <summary>Reads the values of <paramref name="topic"/> (keys are ignored).</summary>
    public DataStream<TValue> FromKafka<TValue>(string topic, Serde<TValue> valueSerde, StartFrom? start = null,
        WatermarkStrategy<TValue>? watermarks = null)
    {
        start ??= StartFrom.Earliest;
        WatermarkStrategy<KafkaRecord<byte[]?, TValue>>? recordWatermarks = null;
        if (watermarks is not null)
        {
            var assigner = watermarks.TimestampAssigner;
            recordWatermarks = WatermarkStrategy<KafkaRecord<byte[]?, TValue>>.ForBoundedOutOfOrderness(watermarks.MaxOutOfOrderness);
            if (assigner is not null) recordWatermarks = recordWatermarks.WithTimestampAssigner((r, kafkaTimestamp) => assigner(r.Value, kafkaTimestamp));
            if (watermarks.Idleness is { } idleness) recordWatermarks = recordWatermarks.WithIdleness(idleness);
        }
        var records = FromKafka([topic], start, Serdes.Bytes, valueSerde, recordWatermarks);
        var values = records.Map(r => r.Value);
        values.OperatorId = records.OperatorId; // a uid on the values names the source
        return values;
    }

    /// <summary>
    /// A table of <paramref name="topic"/> (Kafka Streams' KTable; the topic is usually compacted): each key's latest
    /// value, a null value deleting the key; records with a null key are skipped. It is read from the earliest offset
    /// (or a checkpoint's). Join a keyed stream with it: <see cref="KeyedStream{TKey,T}.Join{TValue,TOut}"/>,
    /// <see cref="KeyedStream{TKey,T}.LeftJoin{TValue,TOut}"/>.
    /// <para>
    /// Without <paramref name="watermarks"/> the job's other sources start reading only once the table has been read to
    /// its end, and the table is idle for event time. With them the table is versioned (Flink's versioned table): each
    /// update is a version of its key from its timestamp on (the Kafka timestamp unless the strategy assigns one; a
    /// tombstone's value is default), the table's watermarks take part in event time as any source's, and it is read
    /// alongside the other sources; join by event time with <see cref="KeyedStream{TKey,T}.TemporalJoin{TValue,TOut}"/>.
    /// </para>
    /// </summary>
    public KafkaTable<TKey, TValue> TableFromKafka<TKey, TValue>(string topic, Serde<TKey> keySerde, Serde<TValue> valueSerde,
        WatermarkStrategy<KafkaRecord<TKey, TValue>>? watermarks = null) where TKey : notnull
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        var records = new DataStream<KafkaRecord<byte[]?, byte[]?>>(this);
        _markerTopic ??= () => topic;
        string sourceId = NextOperatorId("table");
        records.OperatorId = sourceId;
        TValue Value(byte[]? bytes) => bytes is null ? default! : valueSerde.Deserialize(bytes);
        WatermarkStrategy<KafkaRecord<byte[]?, byte[]?>>? byteWatermarks = null;
        if (watermarks is not null)
        {
            byteWatermarks = WatermarkStrategy<KafkaRecord<byte[]?, byte[]?>>.ForBoundedOutOfOrderness(watermarks.MaxOutOfOrderness);
            if (watermarks.TimestampAssigner is { } assigner)
                // A tombstone (null value) has no value to read a time from: it takes the Kafka timestamp.
                byteWatermarks = byteWatermarks.WithTimestampAssigner((r, kafkaTimestamp) => r.Key is null || r.Value is null ? kafkaTimestamp
                    : assigner(new KafkaRecord<TKey, TValue>(r.Topic, r.Partition, r.Offset, r.Timestamp, keySerde.Deserialize(r.Key), Value(r.Value)), kafkaTimestamp));
            if (watermarks.Idleness is { } idleness) byteWatermarks = byteWatermarks.WithIdleness(idleness);
        }
        // A versioned table is an event-time source like the others: not loaded first, not idle.
        _stages.Add(new KafkaSourceStage<byte[]?, byte[]?>(sourceId, [topic], null, StartFrom.Earliest, Serdes.Bytes, Serdes.Bytes,
            byteWatermarks, records, isTable: watermarks is null));
        var updates = records.Filter(r => r.Key is not null)
            .Map(r => new TableUpdate<TKey, TValue>(keySerde.Deserialize(r.Key), r.Value is null, Value(r.Value)));
        return new KafkaTable<TKey, TValue>(this, sourceId, updates, hasEventTime: watermarks is not null);
    }

    internal void AddStage(IStage stage) => _stages.Add(stage);

    /// <summary>
    /// Operators are named by their place in the job's definition, so the same definition run again finds its
    /// checkpointed state under the same names.
    /// </summary>
    internal string NextOperatorId(string kind)
    {
        string id = $"{kind}-{++_operatorCount}";
        _statefulIds.Add(id);
        return id;
    }

    internal void SetUid(string operatorId, string uid)
    {
        if (_uids.Any(p => p.Value == uid && p.Key != operatorId)) throw new ArgumentException($"uid '{uid}' is already another operator's", nameof(uid));
        _uids[operatorId] = uid;
    }

    /// <summary>
    /// Takes a savepoint of the running job (Flink's triggerSavepoint): a checkpoint taken now (or right after the one in
    /// progress), copied to <paramref name="directory"/> (default <see cref="StreamJobOptions.SavepointDirectory"/>),
    /// never removed by the job. Completes with the savepoint's directory, which <see cref="StreamJobOptions.FromSavepoint"/>
    /// takes. Under exactly-once it completes once the savepoint's output is committed. Fails if the job is not running
    /// here (not started, stopped, or a standby).
    /// </summary>
    public Task<string> TriggerSavepointAsync(string? directory = null) =>
        (_coordinator ?? throw new InvalidOperationException("the job is not running in this process (not started, ended, or a standby)"))
            .TriggerSavepointAsync(directory);

    /// <summary>
    /// Runs the job until <paramref name="stop"/>, then stops it cleanly: the sources stop reading, everything read
    /// flows through to the sinks, which flush, and the sources commit their positions to the job's consumer group.
    /// Fails with the first task's failure (the other tasks are stopped). A job runs once.
    /// <para>
    /// With <see cref="StreamJobOptions.HighAvailability"/> this instance first joins the job's leader election and
    /// waits as a standby; once it leads it restores the newest checkpoint named in Keeper and runs. If its Keeper
    /// session is lost it stops processing at once (another instance may lead now) and joins the election again with a
    /// new session, as a standby.
    /// </para>
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        if (Interlocked.Exchange(ref _runs, 1) != 0) throw new InvalidOperationException("a job runs once");
        if (!_stages.Any(s => s is ISourceStage)) throw new InvalidOperationException("the job has no source");
        var names = new OperatorNames(_statefulIds, _uids);
        if (Options.HighAvailability is not { } haOptions)
        {
            await RunAttemptAsync(null, names, stop);
            return;
        }
        try
        {
            await RunHighlyAvailableAsync(haOptions, names, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped between sessions (joining the election again after a lost session, or waiting to retry):
            // nothing of the job runs here, so there is nothing to drain; a stop is not a failure.
        }
    }

    /// <summary>The high-availability loop: one Keeper session at a time, as a standby, a leader or (scale-out) a member.</summary>
    private async Task RunHighlyAvailableAsync(HighAvailabilityOptions haOptions, OperatorNames names, CancellationToken stop)
    {
        // Scale-out: one listener for the other instances' records for the life of the process (its address in the info znode).
        using var endpoint = haOptions.ScaleOut ? DataEndpoint.Open(haOptions.DataHost, haOptions.Log) : null;
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            KeeperHaServices ha;
            try
            {
                ha = await KeeperHaServices.StartAsync(haOptions, Options.JobName, stop, endpoint?.Address);
            }
            catch (Quill.Keeper.Protocol.KeeperException e) when (!stop.IsCancellationRequested
                && e.Code is Quill.Keeper.Protocol.ErrorCode.SessionExpired or Quill.Keeper.Protocol.ErrorCode.ConnectionLoss)
            {
                haOptions.Log?.Invoke($"joining the election failed ({e.Message}); trying again with a new session");
                await Task.Delay(500, stop);
                continue;
            }
            await using var owned = ha;
            haOptions.Log?.Invoke($"instance {ha.InstanceId} of job {ha.Paths.JobId}: standby, waiting for leadership ({ha.Paths.Leader})");
            if (endpoint is not null)
            {
                if (await RunScaledOutAsync(ha, endpoint, names, stop)) return;
                continue;
            }
            try
            {
                await ha.AwaitLeadershipAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return; // a standby stopped: nothing to drain
            }
            catch (OperationCanceledException) when (ha.Lost.IsCancellationRequested)
            {
                continue;
            }
            haOptions.Log?.Invoke($"instance {ha.InstanceId} of job {ha.Paths.JobId}: leader");
            try
            {
                // On the thread pool: the await above may resume on Keeper's event thread, which the run must never block.
                await Task.Run(() => RunAttemptAsync(ha, names, stop), CancellationToken.None);
                return;
            }
            catch (Exception e) when (!stop.IsCancellationRequested
                && (ha.Lost.IsCancellationRequested || ha.Client.State is Quill.Keeper.Client.SessionState.Expired or Quill.Keeper.Client.SessionState.Closed
                    || IsSessionTrouble(e)))
            {
                haOptions.Log?.Invoke($"instance {ha.InstanceId}: stopped processing ({ha.LostReason}; {e.Message}); joining the election again");
            }
        }
    }

    /// <summary>
    /// Scale-out, for one session: takes the subtasks each generation gives this instance, and leads when elected
    /// (<see cref="ScaleOutMember"/>). True when the job stopped; false when the session was lost (join again).
    /// </summary>
    private async Task<bool> RunScaledOutAsync(KeeperHaServices ha, DataEndpoint endpoint, OperatorNames names, CancellationToken stop)
    {
        var member = new ScaleOutMember(ha, endpoint, Options, _stages, names,
            (generation, token) => Task.Run(() => RunAttemptAsync(ha, names, token, generation), CancellationToken.None));
        try
        {
            await member.RunAsync(stop);
            return true;
        }
        catch (Exception e) when (!stop.IsCancellationRequested
            && (ha.Lost.IsCancellationRequested || ha.Client.State is Quill.Keeper.Client.SessionState.Expired or Quill.Keeper.Client.SessionState.Closed
                || IsSessionTrouble(e)))
        {
            Options.HighAvailability!.Log?.Invoke($"instance {ha.InstanceId}: stopped processing ({ha.LostReason}; {e.Message}); joining the election again");
            return false;
        }
    }

    /// <summary>
    /// Whether a run failed because of its Keeper session (expired, or the connection lost in the middle of a write),
    /// possibly before the client reported the session's state: the instance then joins the election again, and
    /// whoever leads next restores from the newest checkpoint.
    /// </summary>
    private static bool IsSessionTrouble(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is Quill.Keeper.Protocol.KeeperException
                {
                    Code: Quill.Keeper.Protocol.ErrorCode.SessionExpired
                    or Quill.Keeper.Protocol.ErrorCode.ConnectionLoss or Quill.Keeper.Protocol.ErrorCode.SessionMoved
                })
                return true;
            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsSessionTrouble)) return true;
        }
        return false;
    }

    /// <summary>
    /// One run of the job: as the leader under high availability (<paramref name="ha"/>), or alone; with scale-out, one
    /// generation of it (<paramref name="generation"/>: this process runs its share, the coordinator counts every process's).
    /// </summary>
    private async Task RunAttemptAsync(KeeperHaServices? ha, OperatorNames names, CancellationToken stop, LeaderGeneration? generation = null)
    {
        using var abort = new CancellationTokenSource();
        using var lost = ha?.Lost.Register(abort.Cancel);
        Exception? failure = null;
        string? directory = Options.CheckpointDirectory;
        ICheckpointStore? storage = directory is null ? null
            : ha is null ? new CheckpointStorage(directory, Options.RetainedCheckpoints)
            : new KeeperCheckpointStore(ha, new CheckpointStorage(directory, retained: null), Options.RetainedCheckpoints, Options.HighAvailability!.Log);
        // Exactly-once decides which checkpoint to restore (the newest whose output committed); JobRunner disposes it.
        var output = storage is not null && Options.ExactlyOnce
            ? await Task.Run(() => ExactlyOnceOutput.Open(Options, storage, _markerTopic!()), stop)
            : null;
        CheckpointCoordinator? checkpoints = null;
        ClusterRun? cluster = null;
        try
        {
            var stored = output is not null ? output.Restored : await Task.Run(() => CommittedCheckpoints.LoadLatest(Options, storage), stop);
            string from = stored is null ? "" : $"checkpoint {stored.Id}";
            if (stored is null && Options.FromSavepoint is { } savepoint)
            {
                stored = Savepoints.Read(savepoint);
                from = $"savepoint {savepoint}";
            }
            var restored = stored is null ? null : names.ToRunning(stored, Options.AllowNonRestoredState, from);
            ICheckpointIdCounter ids = ha is null
                ? new LocalCheckpointIdCounter((restored?.Id ?? 0) + 1)
                : await KeeperCheckpointIdCounter.OpenAsync(ha, from.StartsWith("checkpoint", StringComparison.Ordinal) ? restored!.Id + 1 : 1, stop);
            if (output is not null) output.FirstEpoch = ids.Peek();
            if (storage is not null || Options.SavepointDirectory is not null || restored is not null)
            {
                checkpoints = new CheckpointCoordinator(storage, Options.CheckpointInterval, Options.TimeProvider, restored, output, ids, names,
                    Options.JobName, Options.SavepointDirectory);
                checkpoints.Failed = e =>
                {
                    failure ??= e;
                    abort.Cancel();
                };
            }
            if (ha is not null)
            {
                // Which instance runs which subtasks (what `quill streams list` shows): with scale-out this generation's
                // share-out; otherwise the leader runs them all.
                string? restoredPath = stored is null ? null
                    : from.StartsWith("checkpoint", StringComparison.Ordinal) ? Path.GetFullPath(new CheckpointStorage(directory!).PathOf(stored.Id))
                    : Options.FromSavepoint;
                if (generation is not null) cluster = await generation.BeginAsync(restoredPath, checkpoints!, abort, stop, output);
                else await AssignmentZnode.WriteNextAsync(ha, g => Assignment.Compute(g, Options.Parallelism, ha.InstanceId, restoredPath, [(ha.InstanceId, null)]), stop);
            }
        }
        catch
        {
            output?.Dispose();
            checkpoints?.Dispose();
            throw;
        }
        using var disposeCheckpoints = checkpoints;
        using var disposeCluster = cluster;
        // Spread over processes, a stop cannot drain (the other processes' sources go on): it aborts, and the next
        // leader goes on from the newest checkpoint.
        var runStop = cluster is { HasRemote: true } ? CancellationToken.None : stop;
        using var stopAborts = cluster is { HasRemote: true } ? stop.Register(abort.Cancel) : default;
        var context = new JobContext(Options, abort.Token, checkpoints, output) { Cluster = cluster };
        if (output is not null) context.Resources.Add(output);
        _coordinator = checkpoints;
        var requests = ha is not null && checkpoints is not null
            ? Task.Run(() => SavepointRequests.ServeAsync(ha, checkpoints.TriggerSavepointAsync, Options.HighAvailability!.Log, abort.Token), CancellationToken.None)
            : Task.CompletedTask;
        try
        {
            await JobRunner.RunAsync(context, abort, _stages, runStop);
        }
        catch (OperationCanceledException) when (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
        finally
        {
            _coordinator = null;
            await abort.CancelAsync();
            await requests;
        }
    }
}
