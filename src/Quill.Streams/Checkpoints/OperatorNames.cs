namespace Quill.Streams.Checkpoints;

/// <summary>
/// The names operators' state has in checkpoints and savepoints: an operator's uid if it has one
/// (<see cref="Api.DataStream{T}.Uid"/>), else its place in the job's definition ("process-3"), which is also its id
/// inside the running job. A checkpoint is written under the names and read back into ids, so a changed job finds the
/// state of every operator whose uid it kept (Flink's matching of operator state by uid).
/// </summary>
internal sealed class OperatorNames
{
    private readonly Dictionary<string, string> _nameOf;
    private readonly Dictionary<string, string> _idOf;

    /// <param name="ids">Every stateful operator's id (sources and keyed functions), in definition order.</param>
    /// <param name="uids">Id -> uid, for the operators given one.</param>
    public OperatorNames(IEnumerable<string> ids, IReadOnlyDictionary<string, string> uids)
    {
        _nameOf = ids.ToDictionary(id => id, id => uids.GetValueOrDefault(id, id), StringComparer.Ordinal);
        _idOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, name) in _nameOf)
            if (!_idOf.TryAdd(name, id))
                throw new InvalidOperationException($"two operators of the job are named '{name}': uids must be unique, and differ from the "
                    + "names of operators without one (kind-number, e.g. process-3)");
    }

    /// <summary>The checkpoint as written: state under the operators' names (the same objects otherwise).</summary>
    public Checkpoint ToStored(Checkpoint checkpoint) => new()
    {
        Id = checkpoint.Id,
        Transaction = checkpoint.Transaction,
        Directory = checkpoint.Directory,
        SourceOffsets = checkpoint.SourceOffsets.ToDictionary(p => _nameOf.GetValueOrDefault(p.Key, p.Key), p => p.Value),
        Operators = checkpoint.Operators.ToDictionary(p => _nameOf.GetValueOrDefault(p.Key, p.Key), p => p.Value),
    };

    /// <summary>
    /// The checkpoint as the running job reads it: state under the operators' ids. State whose name no operator has
    /// is dropped if <paramref name="allowNonRestoredState"/>, else the restore fails with the names.
    /// </summary>
    public Checkpoint ToRunning(Checkpoint stored, bool allowNonRestoredState, string from)
    {
        var unknown = stored.SourceOffsets.Keys.Concat(stored.Operators.Keys).Where(n => !_idOf.ContainsKey(n)).Distinct().Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0 && !allowNonRestoredState)
            throw new InvalidOperationException($"{from} holds state of operators this job does not have: {string.Join(", ", unknown)}. "
                + "Give the operators the uids they had (DataStream.Uid), or allow the state to be dropped "
                + "(StreamJobOptions.AllowNonRestoredState, --allow-non-restored-state)");
        return new Checkpoint
        {
            Id = stored.Id,
            Transaction = stored.Transaction,
            Directory = stored.Directory,
            SourceOffsets = stored.SourceOffsets.Where(p => _idOf.ContainsKey(p.Key)).ToDictionary(p => _idOf[p.Key], p => p.Value),
            Operators = stored.Operators.Where(p => _idOf.ContainsKey(p.Key)).ToDictionary(p => _idOf[p.Key], p => p.Value),
        };
    }
}
