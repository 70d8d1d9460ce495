namespace Quill.Keeper.Quorum;

/// <summary>Where a server stands in the ensemble (ZooKeeper's ServerState).</summary>
public enum PeerState { Looking = 0, Following = 1, Leading = 2, Observing = 3 }

/// <summary>
/// A vote of fast leader election: the server voted for, that server's last logged zxid and current epoch, and the
/// round of the election (electionEpoch) it was cast in.
/// </summary>
public readonly record struct Vote(long Leader, long Zxid, long PeerEpoch, long ElectionEpoch)
{
    /// <summary>
    /// ZooKeeper's total order on candidates: a higher current epoch wins, then a higher zxid, then a higher server id.
    /// The first two make sure a leader has every committed txn; the id only breaks ties.
    /// </summary>
    public bool Beats(Vote other) =>
        PeerEpoch > other.PeerEpoch
        || (PeerEpoch == other.PeerEpoch && (Zxid > other.Zxid || (Zxid == other.Zxid && Leader > other.Leader)));

    /// <summary>Two votes name the same candidate in the same state (the election round aside).</summary>
    public bool SameCandidate(Vote other) => Leader == other.Leader && Zxid == other.Zxid && PeerEpoch == other.PeerEpoch;

    public override string ToString() => $"(leader {Leader}, zxid 0x{Zxid:x}, epoch {PeerEpoch}, round {ElectionEpoch})";
}

/// <summary>A vote as it arrives from another server, with who sent it and in what state.</summary>
public readonly record struct Notification(long Sender, PeerState State, Vote Vote);
