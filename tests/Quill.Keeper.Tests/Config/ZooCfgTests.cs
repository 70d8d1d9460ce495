using Quill.Keeper.Config;

namespace Quill.Keeper.Tests.Config;

public sealed class ZooCfgTests
{
    [Fact]
    public void reads_zookeeper_keys_and_syntax()
    {
        var warnings = new List<string>();
        var o = ZooCfg.Parse(
        [
            "# a comment", "! another", "tickTime=500", "dataDir = /var/lib/zk", "dataLogDir: /var/log/zk", "clientPort=2999",
            "clientPortAddress=127.0.0.1", "maxClientCnxns=10", "minSessionTimeout=1000", "maxSessionTimeout=9000",
            "autopurge.snapRetainCount=5", "autopurge.purgeInterval=2", "4lw.commands.whitelist=ruok, stat,mntr",
            "jute.maxbuffer=2048", "forceSync=no", "snapCount=50", "server.1=host1:2888:3888", "initLimit=5", "syncLimit=2",
            "metricsProvider.httpPort=7001",
        ], warnings.Add);
        Assert.Equal(500, o.TickTime);
        Assert.Equal("/var/lib/zk", o.DataDir);
        Assert.Equal("/var/log/zk", o.EffectiveDataLogDir);
        Assert.Equal(2999, o.ClientPort);
        Assert.Equal(10, o.MaxClientCnxns);
        Assert.Equal(1000, o.EffectiveMinSessionTimeout);
        Assert.Equal(9000, o.EffectiveMaxSessionTimeout);
        Assert.Equal(5, o.AutopurgeSnapRetainCount);
        Assert.Equal(2, o.AutopurgePurgeInterval);
        Assert.Equal(["mntr", "ruok", "stat"], o.FourLetterWordWhitelist.Order());
        Assert.Equal(2048, o.JuteMaxBuffer);
        Assert.False(o.ForceSync);
        Assert.Equal(50, o.SnapCount);
        Assert.Equal("host1:2888:3888", o.Servers[1]);
        Assert.Equal(7001, o.MetricsPort);
        Assert.Empty(warnings);
    }

    [Fact]
    public void skip_acl_is_on_only_for_yes_as_zookeeper_reads_it()
    {
        var warnings = new List<string>();
        Assert.True(ZooCfg.Parse(["dataDir=/d", "skipACL=yes"], warnings.Add).SkipAcl);
        Assert.True(ZooCfg.Parse(["dataDir=/d", "zookeeper.skipACL=yes"], warnings.Add).SkipAcl);
        Assert.False(ZooCfg.Parse(["dataDir=/d", "skipACL=no"], warnings.Add).SkipAcl);
        Assert.False(ZooCfg.Parse(["dataDir=/d", "skipACL=true"], warnings.Add).SkipAcl);
        Assert.False(ZooCfg.Parse(["dataDir=/d"], warnings.Add).SkipAcl);
        Assert.Contains(warnings, w => w.Contains("taken as no", StringComparison.Ordinal));
    }

    [Fact]
    public void session_timeout_bounds_default_to_two_and_twenty_ticks()
    {
        var o = ZooCfg.Parse(["tickTime=300", "dataDir=/d"], _ => { });
        Assert.Equal(600, o.EffectiveMinSessionTimeout);
        Assert.Equal(6000, o.EffectiveMaxSessionTimeout);
        Assert.Equal(["srvr"], o.FourLetterWordWhitelist);
        Assert.True(o.ForceSync);
    }

    [Fact]
    public void unknown_keys_are_warned_about_by_name()
    {
        var warnings = new List<string>();
        ZooCfg.Parse(["dataDir=/d", "tickTmie=100"], warnings.Add);
        Assert.Contains(warnings, w => w.Contains("tickTmie"));
    }

    [Theory]
    [InlineData("tickTime=abc", "tickTime")]
    [InlineData("tickTime=0", "tickTime")]
    [InlineData("clientPort=70000", "clientPort")]
    [InlineData("forceSync=maybe", "forceSync")]
    [InlineData("maxClientCnxns=-3", "maxClientCnxns")]
    [InlineData("server.x=a:1:2", "server.x")]
    [InlineData("jute.maxbuffer=12", "jute.maxbuffer")]
    public void bad_values_are_refused_naming_the_key(string line, string key)
    {
        var e = Assert.Throws<ConfigException>(() => ZooCfg.Parse(["dataDir=/d", line], _ => { }));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void missing_data_dir_is_refused()
    {
        var e = Assert.Throws<ConfigException>(() => ZooCfg.Parse(["tickTime=100"], _ => { }));
        Assert.Contains("dataDir", e.Message);
    }
}
