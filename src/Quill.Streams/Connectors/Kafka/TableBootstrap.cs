namespace Quill.Streams.Connectors.Kafka;

/// <summary>
/// Whether the job's tables are loaded: a job's other sources start reading only once every table source task has read
/// its partitions up to their end (as Kafka Streams loads a global table before it processes), so the first records
/// already find the table's values. Table tasks are counted while the job is built, before any task runs.
/// </summary>
internal sealed class TableBootstrap
{
    private int _loading;

    public void AddTableTask() => Interlocked.Increment(ref _loading);

    public void TableTaskLoaded() => Interlocked.Decrement(ref _loading);

    public bool IsLoaded => Volatile.Read(ref _loading) == 0;
}
