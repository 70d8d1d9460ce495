namespace Quill.Broker.Metadata;

/// <summary>
/// Where a new partition's replicas go, as Kafka's AdminUtils places them: round robin over the live brokers from a
/// random start, each further replica shifted by a random amount that grows every full round, so that leaders and
/// followers spread evenly. When every broker has a rack, the brokers are first interleaved rack by rack and a
/// partition's replicas go to different racks (and then different brokers) while any is left.
/// </summary>
public static class ReplicaPlacement
{
    /// <summary>
    /// Replicas for <paramref name="partitions"/> partitions numbered from <paramref name="firstPartition"/>.
    /// <paramref name="fixedStart"/> (tests) replaces both random choices; -1 draws them.
    /// </summary>
    public static List<(int Partition, int[] Replicas)> Assign(int partitions, int replicationFactor, IReadOnlyList<BrokerInfo> brokers,
        int firstPartition = 0, int fixedStart = -1)
    {
        if (replicationFactor > brokers.Count) throw new ArgumentException($"replication factor {replicationFactor} is larger than the {brokers.Count} brokers");
        bool rackAware = brokers.Count > 0 && brokers.All(b => b.Rack is not null);
        var racks = brokers.ToDictionary(b => b.Id, b => b.Rack ?? "");
        int[] arranged = rackAware ? RackAlternated(brokers) : [.. brokers.Select(b => b.Id).Order()];
        int n = arranged.Length;
        int rackCount = rackAware ? racks.Values.Distinct().Count() : 1;
        int start = fixedStart >= 0 ? fixedStart : Random.Shared.Next(n);
        int shift = fixedStart >= 0 ? fixedStart : Random.Shared.Next(n);
        var result = new List<(int, int[])>(partitions);
        for (int p = Math.Max(0, firstPartition); p < Math.Max(0, firstPartition) + partitions; p++)
        {
            if (p > 0 && p % n == 0) shift++;
            int first = (p + start) % n;
            var replicas = new List<int>(replicationFactor) { arranged[first] };
            if (!rackAware)
            {
                for (int j = 0; j < replicationFactor - 1; j++) replicas.Add(arranged[ReplicaIndex(first, shift, j, n)]);
            }
            else
            {
                var usedRacks = new HashSet<string> { racks[arranged[first]] };
                var usedBrokers = new HashSet<int> { arranged[first] };
                int k = 0;
                while (replicas.Count < replicationFactor)
                {
                    int broker = arranged[ReplicaIndex(first, shift * rackCount, k++, n)];
                    string rack = racks[broker];
                    // Skip a rack that has a replica while another has none, and a broker that has one while another has none.
                    if ((usedRacks.Contains(rack) && usedRacks.Count < rackCount) || (usedBrokers.Contains(broker) && usedBrokers.Count < n)) continue;
                    replicas.Add(broker);
                    usedRacks.Add(rack);
                    usedBrokers.Add(broker);
                }
            }
            result.Add((p, [.. replicas]));
        }
        return result;
    }

    private static int ReplicaIndex(int first, int shift, int replica, int n) =>
        n == 1 ? first : (first + 1 + (shift + replica) % (n - 1)) % n;

    /// <summary>The brokers taken one per rack in turn (racks sorted by name, brokers by id within a rack).</summary>
    private static int[] RackAlternated(IReadOnlyList<BrokerInfo> brokers)
    {
        var byRack = brokers.GroupBy(b => b.Rack!).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new Queue<int>(g.Select(b => b.Id).Order())).ToList();
        var result = new List<int>(brokers.Count);
        for (int i = 0; result.Count < brokers.Count; i = (i + 1) % byRack.Count)
            if (byRack[i].TryDequeue(out int id)) result.Add(id);
        return [.. result];
    }
}
