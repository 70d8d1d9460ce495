namespace Quill.Streams.HighAvailability;

/// <summary>
/// One job's znodes under the HA root (Flink's ZooKeeper HA layout, per job):
/// <code>
/// &lt;root&gt;/&lt;job id&gt;/leader/_c_&lt;guid&gt;-latch-NNNNNNNNNN   ephemeral sequential, data the instance id; the lowest leads
/// &lt;root&gt;/&lt;job id&gt;/checkpoints/&lt;id, 19 digits&gt;        one per retained completed checkpoint, data JSON {id, path, timestamp}
/// &lt;root&gt;/&lt;job id&gt;/checkpoint-counter                  the next checkpoint id (decimal text), changed by versioned setData
/// &lt;root&gt;/&lt;job id&gt;/instances/&lt;instance id&gt;           ephemeral, data JSON (host, pid, started, role)
/// &lt;root&gt;/&lt;job id&gt;/assignment                          persistent, data JSON: which instance runs which subtasks (written by the leader)
/// &lt;root&gt;/&lt;job id&gt;/savepoint-requests/request-NNNNNNNNNN  persistent sequential, written by tools; the leader answers in it
/// </code>
/// </summary>
public sealed record HaPaths(string Root, string JobId)
{
    public string Job => Root == "/" ? "/" + JobId : $"{Root}/{JobId}";
    public string Leader => Job + "/leader";
    public string Checkpoints => Job + "/checkpoints";
    public string Counter => Job + "/checkpoint-counter";
    public string Instances => Job + "/instances";
    public string SavepointRequests => Job + "/savepoint-requests";
    public string Assignment => Job + "/assignment";

    public string Checkpoint(long id) => $"{Checkpoints}/{id:D19}";
}
