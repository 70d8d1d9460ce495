using System.Text.Json;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Streams.HighAvailability;

/// <summary>
/// Savepoints asked for through Keeper, so that a tool (`quill streams savepoint`, or any ZooKeeper client) can trigger
/// one: it creates a persistent sequential child of <see cref="HaPaths.SavepointRequests"/> whose data is JSON
/// <c>{"directory": "..."}</c> (or empty: the job's savepoint directory). The leader watches the children, takes a
/// savepoint for each request without a status, and writes the outcome into the request:
/// <c>{"directory":..., "status":"completed", "path":"..."}</c> or <c>{"status":"failed", "error":"..."}</c>. Whoever
/// asked deletes the request once it has read the answer.
/// </summary>
internal static class SavepointRequests
{
    public const string Prefix = "request-";

    /// <summary>
    /// Where the job's savepoints are listed once written: <c>&lt;root&gt;/&lt;job&gt;/savepoints/&lt;checkpoint id, 19
    /// digits&gt;</c>, persistent, JSON {id, path, timestamp} (<see cref="SavepointEntry"/>); never removed by the job.
    /// </summary>
    public static string SavepointsPath(HaPaths paths) => paths.Job + "/savepoints";
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Serves requests until <paramref name="stop"/> (the leader's run ends).</summary>
    public static async Task ServeAsync(KeeperHaServices ha, Func<string?, Task<string>> trigger, Action<string>? log, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var changed = new KeeperWatch();
            try
            {
                var children = await ha.Client.GetChildrenAsync(ha.Paths.SavepointRequests, changed, stop);
                foreach (string child in children.Where(c => c.StartsWith(Prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
                    await ServeOneAsync(ha, $"{ha.Paths.SavepointRequests}/{child}", trigger, log, stop);
                await changed.Fired.WaitAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is KeeperException or ObjectDisposedException)
            {
                // The session is going (the job is stopping or losing the lead), or a connection loss: look again.
                if (ha.Lost.IsCancellationRequested) return;
                await Task.Delay(200, stop).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private static async Task ServeOneAsync(KeeperHaServices ha, string path, Func<string?, Task<string>> trigger, Action<string>? log, CancellationToken stop)
    {
        NodeData node;
        try
        {
            node = await ha.Client.GetDataAsync(path, cancellationToken: stop);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return;
        }
        SavepointRequest request;
        try
        {
            request = node.Data.Length == 0 ? new SavepointRequest() : JsonSerializer.Deserialize<SavepointRequest>(node.Data, Json) ?? new SavepointRequest();
        }
        catch (JsonException e)
        {
            request = new SavepointRequest { Status = "failed", Error = $"not a savepoint request: {e.Message}" };
            await AnswerAsync(ha, path, request, node.Stat.Version, stop);
            return;
        }
        if (request.Status is not null) return; // answered already
        try
        {
            log?.Invoke($"savepoint requested through {path}");
            // Off Keeper's event thread (this runs on it after an await): the savepoint waits on Keeper itself.
            request.Path = await Task.Run(() => trigger(request.Directory), stop).WaitAsync(stop);
            request.Status = "completed";
            log?.Invoke($"savepoint written to {request.Path}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            request.Status = "failed";
            request.Error = e.Message;
        }
        await AnswerAsync(ha, path, request, node.Stat.Version, stop);
    }

    /// <summary>
    /// Writes the answer at the version read. Tried again after a connection loss: a request left unanswered would be
    /// served again, a second savepoint. The version makes the retry safe: if the first try was applied, the retry
    /// finds the next version and stops (BadVersion), as it does when the requester changed or deleted the request.
    /// </summary>
    private static async Task AnswerAsync(KeeperHaServices ha, string path, SavepointRequest answer, int version, CancellationToken stop)
    {
        byte[] data = JsonSerializer.SerializeToUtf8Bytes(answer, Json);
        try
        {
            await KeeperRetry.IdempotentAsync(() => ha.Client.SetDataAsync(path, data, version, stop));
        }
        catch (KeeperException e) when (e.Code is ErrorCode.NoNode or ErrorCode.BadVersion)
        {
            // Answered by the try before a connection loss, or the requester gave up (deleted it) or changed it meanwhile.
        }
    }
}

/// <summary>A savepoint request znode's data (JSON): what a tool asks, and the leader's answer.</summary>
public sealed class SavepointRequest
{
    /// <summary>Where to write the savepoint (null: the job's savepoint directory).</summary>
    public string? Directory { get; set; }
    /// <summary>Null until answered; then "completed" or "failed".</summary>
    public string? Status { get; set; }
    /// <summary>The savepoint's directory, once completed.</summary>
    public string? Path { get; set; }
    public string? Error { get; set; }
}
