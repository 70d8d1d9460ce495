namespace Quill.Broker.Log;

/// <summary>Who appends to a log (Kafka's AppendOrigin): producer sequences are checked for clients only.</summary>
public enum AppendOrigin
{
    /// <summary>A produce request.</summary>
    Client,
    /// <summary>A coordinator writing its own records (transactional offset commits carry no sequence numbers).</summary>
    Coordinator,
    /// <summary>A follower copying its leader's batches: offsets, epochs and markers are kept as the leader wrote them.</summary>
    Replication,
}
