using Quill.Keeper.Config;
using Quill.Testing;

namespace Quill.Keeper.Tests.Config;

/// <summary>zoo.cfg's ensemble keys, read and checked as ZooKeeper 3.5+ reads them; mistakes name the key.</summary>
public sealed class QuorumConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("quill-quorum-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private KeeperOptions Load(params string[] lines) => Load(new List<string>(), lines);

    private KeeperOptions Load(List<string> warnings, params string[] lines)
    {
        var config = Path.Combine(_dir, "zoo.cfg");
        File.WriteAllLines(config, [$"dataDir={_dir}", .. lines]);
        return ZooCfg.Load(config, warnings.Add);
    }

    private void WriteMyId(string id) => File.WriteAllText(Path.Combine(_dir, "myid"), id + "\n");

    [Fact]
    public void a_server_line_gives_host_ports_role_and_client_address()
    {
        var m = EnsembleMember.Parse(3, "zk3.example:2888:3888:observer;0.0.0.0:2181");
        Assert.Equal(new EnsembleMember(3, "zk3.example", 2888, 3888, PeerRole.Observer, "0.0.0.0", 2181), m);
        Assert.Equal(new EnsembleMember(1, "::1", 2888, 3888, PeerRole.Participant, null, 2182), EnsembleMember.Parse(1, "[::1]:2888:3888;2182"));
        Assert.Equal(PeerRole.Participant, EnsembleMember.Parse(2, "h:1:2:participant").Role);
    }

    [Theory]
    [InlineData("host:2888", "must look like host:quorumPort:electionPort")]
    [InlineData("host:x:3888", "the quorum port must be a number")]
    [InlineData("host:2888:70000", "the election port must be a number from 1 to 65535")]
    [InlineData("host:2888:2888", "the quorum port and the election port are both 2888")]
    [InlineData("host:2888:3888:leader", "the role must be participant or observer")]
    [InlineData("host:2888:3888;3888", "the client port 3888 is also its quorum or election port")]
    [InlineData("a:2888:3888|b:2888:3888", "several addresses")]
    public void a_malformed_server_line_stops_the_start_naming_the_key(string value, string message)
    {
        var e = Assert.Throws<ConfigException>(() => ZooCfg.Parse(["dataDir=/d", $"server.7={value}"], _ => { }));
        Assert.StartsWith("server.7", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void the_same_server_id_twice_stops_the_start()
    {
        var e = Assert.Throws<ConfigException>(() => ZooCfg.Parse(["dataDir=/d", "server.2=a:2888:3888", "server.2=b:2888:3888"], _ => { }));
        Assert.Equal("server.2 is given twice: server ids must be unique", e.Message);
    }

    [Fact]
    public void an_ensemble_reads_its_id_from_myid_and_every_quorum_setting()
    {
        WriteMyId("2");
        var o = Load("server.1=zk1:2888:3888", "server.2=zk2:2888:3888;2181", "server.3=zk3:2888:3888", "server.4=zk4:2888:3888:observer",
            "initLimit=7", "syncLimit=3", "peerType=participant", "standaloneEnabled=true", "reconfigEnabled=true", "quorumListenOnAllIPs=true",
            "cnxTimeout=1500", "electionPortBindRetry=0", "syncEnabled=false", "readonlymode.enabled=true");
        var q = o.Quorum;
        Assert.True(q.IsEnsemble);
        Assert.Equal(2, q.MyId);
        Assert.Equal([1, 2, 3, 4], q.Members.Keys.Order());
        Assert.Equal(PeerRole.Observer, q.Members[4].Role);
        Assert.Equal((7, 3), (o.InitLimit, o.SyncLimit));
        Assert.Equal(PeerRole.Participant, q.PeerType);
        Assert.True(q.ReconfigEnabled);
        Assert.True(q.QuorumListenOnAllIPs);
        Assert.Equal(1500, q.CnxTimeoutMs);
        Assert.Equal(0, q.ElectionPortBindRetry);
        Assert.False(q.SyncEnabled);
        Assert.True(q.ReadOnlyModeEnabled);
    }

    [Fact]
    public void an_ensemble_without_a_myid_file_stops_naming_the_file()
    {
        var e = Assert.Throws<ConfigException>(() => Load("server.1=zk1:2888:3888", "server.2=zk2:2888:3888", "server.3=zk3:2888:3888"));
        Assert.StartsWith($"myid file {Path.Combine(_dir, "myid")} is missing", e.Message);
    }

    [Fact]
    public void a_myid_missing_from_the_server_list_stops_the_start()
    {
        WriteMyId("5");
        var e = Assert.Throws<ConfigException>(() => Load("server.1=zk1:2888:3888", "server.2=zk2:2888:3888", "server.3=zk3:2888:3888"));
        Assert.Equal("myid is 5 but no server.5 line lists it (servers: server.1, server.2, server.3)", e.Message);
    }

    [Fact]
    public void two_servers_on_one_host_may_not_share_a_port()
    {
        WriteMyId("1");
        var e = Assert.Throws<ConfigException>(() => Load("server.1=localhost:2888:3888", "server.2=localhost:2889:2888", "server.3=zk3:2888:3888"));
        Assert.Equal("server.2: its election port localhost:2888 is already the quorum port of server.1", e.Message);
    }

    [Fact]
    public void one_server_line_with_standalone_enabled_is_a_standalone_server_on_its_client_port()
    {
        var o = Load("server.1=127.0.0.1:2888:3888;127.0.0.1:2999");
        Assert.False(o.Quorum.IsEnsemble);
        Assert.Null(o.Quorum.MyId); // no myid file needed
        Assert.Equal(2999, o.ClientPort);
        Assert.Equal("127.0.0.1", o.ClientPortAddress);

        var e = Assert.Throws<ConfigException>(() => Load("clientPort=2181", "server.1=127.0.0.1:2888:3888;2999"));
        Assert.Equal("clientPort is 2181 but server.1 says 2999: they must agree", e.Message);
    }

    [Fact]
    public void one_server_line_with_standalone_disabled_is_an_ensemble_of_one()
    {
        WriteMyId("1");
        var o = Load("server.1=127.0.0.1:2888:3888", "standaloneEnabled=false");
        Assert.True(o.Quorum.IsEnsemble);
        Assert.Equal(1, o.Quorum.MyId);
    }

    [Fact]
    public void server_lines_come_from_the_dynamic_config_file_with_its_version()
    {
        WriteMyId("3");
        var dynamic = Path.Combine(_dir, "zoo.cfg.dynamic.100000000");
        File.WriteAllLines(dynamic, ["server.1=zk1:2888:3888:participant;2181", "server.2=zk2:2888:3888:participant;2181", "server.3=zk3:2888:3888:participant;2181"]);
        var o = Load("reconfigEnabled=true", $"dynamicConfigFile={dynamic}");
        Assert.Equal([1, 2, 3], o.Quorum.Members.Keys.Order());
        Assert.Equal(0x100000000L, o.Quorum.DynamicConfigVersion);
        Assert.Equal(3, o.Quorum.MyId);

        var e = Assert.Throws<ConfigException>(() => Load($"dynamicConfigFile={dynamic}", "server.1=zk1:2888:3888"));
        Assert.StartsWith("dynamicConfigFile is set and zoo.cfg has server.N lines too", e.Message);
    }
}
