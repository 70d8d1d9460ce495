using Quill.Testing;

namespace Quill.Compat.Tests.Ensemble;

/// <summary>
/// Three Keeper processes as an ensemble (zoo.cfg server.N lines, myid), driven by kazoo: one leader is elected,
/// writes through any member reach every member, the leader's kill -9 elects another and loses nothing acknowledged,
/// sessions move between members with their ephemerals and watches and expire everywhere, and a member that was down
/// catches up with a DIFF or a snapshot.
/// </summary>
public sealed class KeeperEnsembleTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task three_servers_elect_one_leader_and_every_member_answers_a_synced_read_with_writes_made_through_a_follower()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3);
        var leader = await ensemble.LeaderAsync();
        var followers = ensemble.Members.Where(m => m != leader).ToList();
        string hosts = string.Join(",", new[] { followers[0], followers[1], leader }.Select(m => m.ConnectString));

        var run = await ToolRunner.RunKazooScriptFileAsync(EnsembleClient.ScriptPath, "replicate", hosts);
        Assert.True(run.Succeeded, run + "\n" + ensemble.Diagnostics());
        var lines = run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("wrote /rep/seq-0000000000", lines);
        foreach (var m in ensemble.Members)
            Assert.Contains($"{m.ConnectString} multi version=51 children=m,seq-0000000000", lines);

        var mntr = await leader.FourLetterWordAsync("mntr");
        Assert.Contains("zk_server_state\tleader", mntr);
        Assert.Contains("zk_synced_followers\t2", mntr);
        Assert.Contains("zk_server_state\tfollower", await followers[0].FourLetterWordAsync("mntr"));
    }

    [Fact]
    public async Task the_leaders_kill_9_elects_a_new_leader_and_no_acknowledged_write_is_lost_on_any_member()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3);
        var leader = await ensemble.LeaderAsync();
        await using var writer = await EnsembleClient.StartAsync("writer", ensemble.ConnectString, "w");
        writer.WaitForLine(l => l == "ack 200", Long);

        leader.Kill();
        var killedAt = DateTime.UtcNow;
        var newLeader = await ensemble.WaitForRolesAsync(2);
        Assert.NotEqual(leader.Id, newLeader.Id);
        // Writes go on through the new leader.
        var firstAfter = writer.WaitForLine(l => l.StartsWith("ack ", StringComparison.Ordinal) && DateTime.UtcNow > killedAt, Long);
        int after = int.Parse(firstAfter[4..]);
        writer.WaitForLine(l => l == $"ack {after + 100}", Long);

        leader.Start(); // back from its own disk; rejoins as a follower
        await ensemble.WaitForRolesAsync(3);
        var transcript = await writer.FinishAsync(Long);
        var acked = transcript.Split('\n').Where(l => l.StartsWith("ack ", StringComparison.Ordinal)).Select(l => $"w-{l[4..].Trim()}").ToHashSet();

        foreach (var m in ensemble.Members)
        {
            var children = await ChildrenAsync(m, "/ens");
            var missing = acked.Except(children).ToList();
            Assert.True(missing.Count == 0, $"server.{m.Id} lacks {missing.Count} acknowledged creates, e.g. {string.Join(", ", missing.Take(5))}\n{ensemble.Diagnostics()}");
        }
        var reference = await ChildrenAsync(ensemble.Members[0], "/ens");
        foreach (var m in ensemble.Members.Skip(1)) Assert.Equal(reference, await ChildrenAsync(m, "/ens"));
    }

    [Fact]
    public async Task a_session_moves_to_another_member_with_its_ephemeral_when_its_member_dies_and_its_watch_set_again_there_fires()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3);
        var leader = await ensemble.LeaderAsync();
        var follower = ensemble.Members.First(m => m != leader);
        var other = ensemble.Members.First(m => m != leader && m != follower);
        // The client knows the follower first, then the other member.
        await using var client = await EnsembleClient.StartAsync("move", $"{follower.ConnectString},{other.ConnectString}");
        var before = client.WaitForLine(l => l.StartsWith("session ", StringComparison.Ordinal), Long);
        Assert.EndsWith($" on {follower.ClientPort}", before);

        follower.Kill();
        client.WriteLine("killed");
        var after = client.WaitForLine(l => l.StartsWith("session ", StringComparison.Ordinal), Long);
        Assert.Equal(before.Split(' ')[1], after.Split(' ')[1]);
        Assert.EndsWith($" on {other.ClientPort}", after);
        Assert.Equal("ephemeral present", client.WaitForLine(l => l.StartsWith("ephemeral", StringComparison.Ordinal), Long));
        Assert.Equal("watch saw the change", client.WaitForLine(l => l.StartsWith("watch", StringComparison.Ordinal), Long));
    }

    [Fact]
    public async Task a_session_kept_alive_through_a_follower_outlives_its_timeout_and_once_its_client_dies_its_ephemeral_goes_from_every_member()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3);
        var leader = await ensemble.LeaderAsync();
        var follower = ensemble.Members.First(m => m != leader);
        await using var holder = await EnsembleClient.StartAsync("hold", follower.ConnectString, "/held/e", "2");
        holder.WaitForLine(l => l.StartsWith("ready", StringComparison.Ordinal), Long);

        // Only the follower hears from this client; the leader, which expires sessions, must hear of it through pings.
        await Task.Delay(TimeSpan.FromSeconds(5)); // 2.5 session timeouts
        foreach (var m in ensemble.Members) Assert.Contains("e", await ChildrenAsync(m, "/held"));

        holder.Kill();
        foreach (var m in ensemble.Members)
        {
            var deadline = DateTime.UtcNow + Long;
            while ((await ChildrenAsync(m, "/held")).Contains("e"))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the ephemeral of a dead client is still on server.{m.Id}\n{ensemble.Diagnostics()}");
                await Task.Delay(200);
            }
        }
    }

    [Fact]
    public async Task kill_9_of_every_member_under_writes_loses_no_acknowledged_write()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3);
        await using var writer = await EnsembleClient.StartAsync("writer", ensemble.ConnectString, "all");
        writer.WaitForLine(l => l == "ack 300", Long);
        foreach (var m in ensemble.Members) m.Kill();
        var transcript = await writer.FinishAsync(Long);
        var acked = transcript.Split('\n').Where(l => l.StartsWith("ack ", StringComparison.Ordinal)).Select(l => $"all-{l[4..].Trim()}").ToHashSet();

        foreach (var m in ensemble.Members) m.Start();
        await ensemble.WaitForRolesAsync(3);
        foreach (var m in ensemble.Members)
        {
            var missing = acked.Except(await ChildrenAsync(m, "/ens")).ToList();
            Assert.True(missing.Count == 0, $"server.{m.Id} lacks {missing.Count} acknowledged creates after kill -9 of all, e.g. {string.Join(", ", missing.Take(5))}\n{ensemble.Diagnostics()}");
        }
    }

    [Fact]
    public async Task a_member_that_missed_more_than_the_leaders_window_catches_up_from_a_snapshot()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3, extraConfig: new Dictionary<string, string> { ["commitLogCount"] = "50" });
        var leader = await ensemble.LeaderAsync();
        var behind = ensemble.Members.First(m => m != leader);
        behind.Kill();
        await using (var writer = await EnsembleClient.StartAsync("writer", leader.ConnectString, "snap"))
        {
            writer.WaitForLine(l => l == "ack 200", Long);
            await writer.FinishAsync(Long);
        }
        behind.Start();
        await ensemble.WaitForRolesAsync(3);
        Assert.Contains(": Snap at 0x", behind.Output);
        Assert.Equal(await ChildrenAsync(leader, "/ens"), await ChildrenAsync(behind, "/ens"));
    }

    [Fact]
    public async Task an_observer_serves_reads_and_writes_without_a_vote_so_two_of_three_voters_down_stop_writes_even_with_it_up()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(4, observers: 1);
        var observer = ensemble[4];
        Assert.Equal("observer", await observer.ModeAsync());
        var leader = await ensemble.LeaderAsync();
        Assert.NotEqual(4, leader.Id);
        var mntr = await leader.FourLetterWordAsync("mntr");
        Assert.Contains("zk_synced_followers\t2", mntr);
        Assert.Contains("zk_synced_observers\t1", mntr);

        var run = await ToolRunner.RunKazooScriptFileAsync(EnsembleClient.ScriptPath, "replicate", $"{observer.ConnectString},{leader.ConnectString}");
        Assert.True(run.Succeeded, run + "\n" + ensemble.Diagnostics());
        Assert.Contains($"{leader.ConnectString} multi version=51 children=m,seq-0000000000", run.StdOut);

        // The observer alone with one voter is no quorum: nobody leads, so nobody serves.
        foreach (var voter in ensemble.Members.Where(m => m.Id != 4).Take(2)) voter.Kill();
        var deadline = DateTime.UtcNow + Long;
        while (await observer.ModeAsync() == "observer")
        {
            Assert.True(DateTime.UtcNow < deadline, "the observer still serves without a quorum of voters\n" + ensemble.Diagnostics());
            await Task.Delay(200);
        }
        Assert.DoesNotContain("leader", await Task.WhenAll(ensemble.Members.Where(m => m.IsRunning).Select(m => m.ModeAsync())));
    }

    [Fact]
    public async Task a_follower_paused_longer_than_sync_limit_is_dropped_by_the_leader_writes_go_on_and_it_resyncs_after_sigcont()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3);
        var leader = await ensemble.LeaderAsync();
        var paused = ensemble.Members.First(m => m != leader);
        var other = ensemble.Members.First(m => m != leader && m != paused);
        await using var writer = await EnsembleClient.StartAsync("writer", $"{leader.ConnectString},{other.ConnectString}", "w");
        writer.WaitForLine(l => l == "ack 50", Long);

        // SIGSTOP: the process is alive, its connection open, but it answers nothing. After syncLimit * tickTime
        // (2.5 s) the leader drops it and commits with the other follower alone.
        paused.Pause();
        try
        {
            var deadline = DateTime.UtcNow + Long;
            while (!leader.Output.Contains($"Dropped learner {paused.Id} ", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the leader did not drop server.{paused.Id}\n{ensemble.Diagnostics()}");
                await Task.Delay(200);
            }
            int acked = LastAck(writer);
            writer.WaitForLine(l => l == $"ack {acked + 50}", Long);
            Assert.Equal("leader", await leader.ModeAsync());
        }
        finally
        {
            paused.Resume();
        }

        // SIGCONT: it finds its connection gone, syncs again and follows; every member ends with the same tree.
        await ensemble.WaitForRolesAsync(3);
        int last = LastAck(writer);
        writer.WaitForLine(l => l == $"ack {last + 20}", Long);
        await AssertConvergedAsync(ensemble, await writer.FinishAsync(Long));
    }

    [Fact]
    public async Task five_servers_lose_the_leader_and_a_follower_to_kill_9_under_writes_go_on_with_three_and_all_five_converge()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(5);
        var leader = await ensemble.LeaderAsync();
        var follower = ensemble.Members.First(m => m != leader);
        await using var writer = await EnsembleClient.StartAsync("writer", ensemble.ConnectString, "w");
        writer.WaitForLine(l => l == "ack 100", Long);

        leader.Kill();
        follower.Kill();
        var killedAt = DateTime.UtcNow;
        var newLeader = await ensemble.WaitForRolesAsync(3);
        Assert.NotEqual(leader.Id, newLeader.Id);
        // Three of five are a quorum: writes go on.
        var firstAfter = writer.WaitForLine(l => l.StartsWith("ack ", StringComparison.Ordinal) && DateTime.UtcNow > killedAt, Long);
        int after = int.Parse(firstAfter[4..], System.Globalization.CultureInfo.InvariantCulture);
        writer.WaitForLine(l => l == $"ack {after + 100}", Long);

        leader.Start();
        follower.Start();
        await ensemble.WaitForRolesAsync(5);
        int last = LastAck(writer);
        writer.WaitForLine(l => l == $"ack {last + 20}", Long);
        await AssertConvergedAsync(ensemble, await writer.FinishAsync(Long));
    }

    /// <summary>Every acknowledged create is on every member, and all members list the same children.</summary>
    private static async Task AssertConvergedAsync(KeeperEnsemble ensemble, string transcript)
    {
        var acked = transcript.Split('\n').Where(l => l.StartsWith("ack ", StringComparison.Ordinal)).Select(l => $"w-{l[4..].Trim()}").ToHashSet();
        List<string>? reference = null;
        foreach (var m in ensemble.Members)
        {
            var children = await ChildrenAsync(m, "/ens");
            var missing = acked.Except(children).ToList();
            Assert.True(missing.Count == 0, $"server.{m.Id} lacks {missing.Count} acknowledged creates, e.g. {string.Join(", ", missing.Take(5))}\n{ensemble.Diagnostics()}");
            children.Sort(StringComparer.Ordinal);
            if (reference is null) reference = children;
            else Assert.Equal(reference, children);
        }
    }

    private static int LastAck(EnsembleClient writer) =>
        int.Parse(writer.WaitForLine(l => l.StartsWith("ack ", StringComparison.Ordinal), Long)[4..], System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<List<string>> ChildrenAsync(KeeperEnsemble.Member m, string path)
    {
        var run = await ToolRunner.RunKazooScriptFileAsync(EnsembleClient.ScriptPath, "children", m.ConnectString, path);
        var lines = run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.True(run.Succeeded && lines.LastOrDefault() == "done", $"listing {path} on server.{m.Id} failed:\n{run}");
        return lines.Take(lines.Count - 1).ToList();
    }
}
