namespace Quill.Streams.Api;

/// <summary>What a job promises about its Kafka output after a failure and a restart from its checkpoint.</summary>
public enum DeliveryGuarantee
{
    /// <summary>Nothing is lost; what was read after the last checkpoint is processed, and written, again.</summary>
    AtLeastOnce,

    /// <summary>
    /// Each output once, for readers with isolation.level=read_committed: the output written between two checkpoints
    /// goes in one Kafka transaction, committed when the later checkpoint is complete (needs checkpointing; output
    /// becomes visible one checkpoint interval later).
    /// </summary>
    ExactlyOnce,
}
