namespace Quill.Keeper.Pipeline;

/// <summary>
/// A stage of the write pipeline that takes requests from the stage before it. Requests only move forward:
/// <see cref="PrepStage"/> -> <see cref="SyncStage"/> -> (back on the owner thread) <see cref="FinalStage"/>.
/// A quorum slots in at these seams without touching connections or the tree: a proposal stage between prepare and
/// sync (send the txn to the followers, then log it here), and a commit stage between sync and final (hold each
/// batch until a quorum has acknowledged it, then post it to the owner as committed).
/// </summary>
public interface IRequestStage
{
    void Submit(Request request);
}
