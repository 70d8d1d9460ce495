namespace Quill.Broker.Groups;

/// <summary>
/// The classic group states, named as Kafka names them (DescribeGroups and ListGroups send these strings).
/// Empty -> PreparingRebalance (a member joins) -> CompletingRebalance (everyone joined; waiting for the
/// leader's assignment) -> Stable (assignment handed out); any membership change goes back to
/// PreparingRebalance; Dead once the group is deleted or expired.
/// </summary>
public enum GroupState
{
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}
