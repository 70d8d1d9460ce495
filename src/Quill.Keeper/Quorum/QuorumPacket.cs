namespace Quill.Keeper.Quorum;

/// <summary>
/// What servers of an ensemble say to each other on the quorum port (leader and learners) and the election port.
/// Numbers follow ZooKeeper's Leader packet types where the meaning is the same; the last three are Keeper's own.
/// </summary>
public enum PacketType
{
    /// <summary>Learner to leader: a client's write (or createSession, sync) to put through the leader's pipeline.</summary>
    Request = 1,
    /// <summary>Leader to learners: a txn to log; the zxid is the txn's.</summary>
    Proposal = 2,
    /// <summary>Learner to leader: everything up to this zxid is logged and fsynced (cumulative); also the NEWLEADER ack.</summary>
    Ack = 3,
    /// <summary>Leader to learners: the txn with this zxid is committed (applied in zxid order).</summary>
    Commit = 4,
    /// <summary>Both ways: liveness; the learner's carries the sessions its clients touched since the last one.</summary>
    Ping = 5,
    /// <summary>Leader to learner after the sync: the learner has the leader's history and takes on the new epoch.</summary>
    NewLeader = 10,
    /// <summary>Learner to leader on connecting: its id, role and accepted epoch.</summary>
    FollowerInfo = 11,
    /// <summary>Leader to learner: the ensemble is established; serve clients.</summary>
    UpToDate = 12,
    /// <summary>Sync: the txns the learner lacks follow as proposal/commit pairs.</summary>
    Diff = 13,
    /// <summary>Sync: drop logged txns above this zxid (never committed), then the diff follows.</summary>
    Trunc = 14,
    /// <summary>Sync: the whole state (a snapshot body) at this zxid.</summary>
    Snap = 15,
    /// <summary>Leader to learner: the epoch it proposes (zxid = epoch &lt;&lt; 32) and the ensemble's session secret.</summary>
    LeaderInfo = 17,
    /// <summary>Learner to leader: accepted; its current epoch and last logged zxid.</summary>
    AckEpoch = 18,
    /// <summary>Leader to the learner that forwarded it: a write that was refused, or a sync, answered in stream order.</summary>
    Answer = 100,
    /// <summary>Leader to learners: are you still following me? (zxid = round). Confirms leadership before a sync answers.</summary>
    Probe = 101,
    /// <summary>Learner to leader: yes, still following (zxid = round).</summary>
    ProbeAck = 102,
    /// <summary>Election port: a vote.</summary>
    Notification = 200,
}

/// <summary>One message: its type, a zxid (or epoch, round: whatever the type says) and a jute-encoded body.</summary>
public readonly record struct QuorumPacket(PacketType Type, long Zxid, byte[] Data);
