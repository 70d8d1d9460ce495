using Quill.Broker.Config;
using Quill.Broker.Log;

namespace Quill.Broker.Tests.Config;

public sealed class ServerPropertiesTests
{
    private static BrokerOptions Parse(string text, List<string>? warnings = null) =>
        ServerProperties.Parse(PropertiesFile.Parse(text), w => warnings?.Add(w));

    [Fact]
    public void Kafkas_sample_server_properties_is_read_without_warnings()
    {
        var warnings = new List<string>();
        var options = Parse("""
            # Licensed to the Apache Software Foundation (ASF)
            broker.id=0
            listeners=PLAINTEXT://:9092
            num.network.threads=3
            num.io.threads=8
            socket.send.buffer.bytes=102400
            socket.receive.buffer.bytes=102400
            socket.request.max.bytes=104857600
            log.dirs=/tmp/kafka-logs
            num.partitions=1
            num.recovery.threads.per.data.dir=1
            offsets.topic.replication.factor=1
            transaction.state.log.replication.factor=1
            transaction.state.log.min.isr=1
            log.retention.hours=168
            log.segment.bytes=1073741824
            log.retention.check.interval.ms=300000
            zookeeper.connect=localhost:2181
            zookeeper.connection.timeout.ms=18000
            group.initial.rebalance.delay.ms=0
            """, warnings);
        Assert.Empty(warnings);
        Assert.Equal(0, options.BrokerId);
        Assert.Equal("", options.ListenHost);
        Assert.Equal(9092, options.Port);
        Assert.Equal("127.0.0.1", options.EffectiveAdvertisedHost);
        Assert.Equal(["/tmp/kafka-logs"], options.LogDirs);
        Assert.Equal(168L * 3_600_000, options.LogDefaults.RetentionMs);
        Assert.Equal(1073741824, options.LogDefaults.SegmentBytes);
        Assert.Equal("localhost:2181", options.ZooKeeperConnect);
        Assert.Equal(1, options.OffsetsTopicReplicationFactor);
        Assert.Equal(1, options.TransactionStateLogMinIsr);
        Assert.Equal(0, options.GroupInitialRebalanceDelayMs);
        Assert.Equal(2, Parse("broker.id=0").TransactionStateLogMinIsr);
    }

    [Fact]
    public void Retention_and_roll_follow_kafkas_precedence()
    {
        var options = Parse("log.retention.hours=1\nlog.retention.minutes=5\nlog.retention.ms=1234\nlog.roll.hours=2\n");
        Assert.Equal(1234, options.LogDefaults.RetentionMs);
        Assert.Equal(2 * 3_600_000, options.LogDefaults.SegmentMs);
        Assert.Equal(5 * 60_000, Parse("log.retention.hours=1\nlog.retention.minutes=5").LogDefaults.RetentionMs);
        Assert.Equal(-1, Parse("log.retention.ms=-1").LogDefaults.RetentionMs);
        Assert.Equal(99, Parse("log.roll.ms=99\nlog.roll.hours=3").LogDefaults.SegmentMs);
    }

    [Fact]
    public void Log_settings_map_onto_the_log_config()
    {
        var log = Parse("""
            log.dirs=/a, /b
            message.max.bytes=2000000
            log.retention.bytes=1000000
            log.flush.interval.messages=1
            log.flush.interval.ms=500
            log.cleanup.policy=compact,delete
            advertised.listeners=PLAINTEXT://broker.example:19092
            """);
        Assert.Equal(["/a", "/b"], log.LogDirs);
        Assert.Equal(2_000_000, log.LogDefaults.MaxMessageBytes);
        Assert.Equal(1_000_000, log.LogDefaults.RetentionBytes);
        Assert.Equal(1, log.LogDefaults.FlushMessages);
        Assert.Equal(500, log.LogDefaults.FlushMs);
        Assert.Equal(500, log.FlushSchedulerIntervalMs);
        Assert.Equal(CleanupPolicy.Compact | CleanupPolicy.Delete, log.LogDefaults.CleanupPolicy);
        Assert.Equal("broker.example", log.EffectiveAdvertisedHost);
        Assert.Equal(19092, log.AdvertisedPort);
    }

    [Fact]
    public void Unknown_keys_are_warned_about()
    {
        var warnings = new List<string>();
        Parse("brokr.id=1\nnum.io.threads=8", warnings);
        Assert.Equal(["unknown configuration key 'brokr.id' is ignored"], warnings);
    }

    [Theory]
    [InlineData("broker.id=abc", "broker.id")]
    [InlineData("num.partitions=0", "num.partitions")]
    [InlineData("auto.create.topics.enable=yes", "auto.create.topics.enable")]
    [InlineData("log.segment.bytes=10", "log.segment.bytes")]
    [InlineData("log.cleanup.policy=shred", "log.cleanup.policy")]
    [InlineData("listeners=SSL://:9093", "listeners")]
    [InlineData("listeners=PLAINTEXT://host", "listeners")]
    [InlineData("socket.request.max.bytes=-5", "socket.request.max.bytes")]
    [InlineData("log.message.format.version=latest", "log.message.format.version")]
    [InlineData("inter.broker.protocol.version=4.9", "inter.broker.protocol.version")]
    public void Bad_values_are_refused_naming_the_key(string line, string key)
    {
        var e = Assert.Throws<BrokerConfigException>(() => Parse(line));
        Assert.StartsWith(key + ":", e.Message);
    }

    [Fact]
    public void Several_named_listeners_with_a_replication_listener_for_brokers()
    {
        var warnings = new List<string>();
        var options = Parse("""
            listeners=CLIENT://127.0.0.1:9092,replication://127.0.0.1:9093,PLAINTEXT://:9094
            advertised.listeners=CLIENT://kafka-1.example:19092,REPLICATION://10.0.1.1:9093
            listener.security.protocol.map=CLIENT:PLAINTEXT,REPLICATION:PLAINTEXT,PLAINTEXT:PLAINTEXT
            inter.broker.listener.name=REPLICATION
            """, warnings);
        Assert.Empty(warnings);
        Assert.Equal([new("CLIENT", "127.0.0.1", 9092), new("REPLICATION", "127.0.0.1", 9093), new("PLAINTEXT", "", 9094)], options.EffectiveListeners);
        Assert.Equal("REPLICATION", options.InterBrokerListenerName);
        Assert.Null(options.ControlPlaneListenerName);
        // The first listener is the one the single-listener settings speak of.
        Assert.Equal(("127.0.0.1", 9092, "kafka-1.example", 19092), (options.ListenHost, options.Port, options.EffectiveAdvertisedHost, options.AdvertisedPort));
        Assert.Equal(["CLIENT://kafka-1.example:19092", "REPLICATION://10.0.1.1:9093"],
            options.ResolveAdvertisedListeners(_ => 0).Select(e => e.ToString()));

        // Without advertised.listeners every listener is advertised; a wildcard host becomes a routable one, port 0 the bound port.
        var defaults = Parse("listeners=PLAINTEXT://:0,INTERNAL://127.0.0.2:0\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT\ncontrol.plane.listener.name=internal");
        Assert.Equal(["PLAINTEXT://127.0.0.1:4000", "INTERNAL://127.0.0.2:4001"],
            defaults.ResolveAdvertisedListeners(name => name == "PLAINTEXT" ? 4000 : 4001).Select(e => e.ToString()));
        Assert.Equal(("PLAINTEXT", "INTERNAL"), (defaults.InterBrokerListenerName, defaults.ControlPlaneListenerName));
        Assert.Equal("PLAINTEXT", Parse("security.inter.broker.protocol=PLAINTEXT").InterBrokerListenerName);
    }

    [Theory]
    [InlineData("listeners=SSL://:9093", "listeners", "listener SSL uses security protocol SSL")]
    [InlineData("listeners=PLAINTEXT://:9092,SASL_SSL://:9093", "listeners", "listener SASL_SSL uses security protocol SASL_SSL")]
    [InlineData("listeners=CLIENT://:9092", "listeners", "No security protocol defined for listener CLIENT")]
    [InlineData("listeners=PLAINTEXT://:9092,plaintext://:9093", "listeners", "Each listener must have a different name")]
    [InlineData("listeners=PLAINTEXT://:9092,REPLICATION://:9092\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,REPLICATION:PLAINTEXT", "listeners", "Each listener must have a different port")]
    [InlineData("listeners=PLAINTEXT://:9092\nadvertised.listeners=PLAINTEXT://h:9092,OTHER://h:9093\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT", "advertised.listeners", "listener names must be equal to or a subset of the ones defined in listeners")]
    [InlineData("advertised.listeners=PLAINTEXT://0.0.0.0:9092", "advertised.listeners", "cannot use the nonroutable meta-address 0.0.0.0")]
    [InlineData("listeners=PLAINTEXT://0.0.0.0:9092", "advertised.listeners", "cannot use the nonroutable meta-address 0.0.0.0")]
    [InlineData("inter.broker.listener.name=REPLICATION", "inter.broker.listener.name", "must be a listener name defined in advertised.listeners")]
    [InlineData("listeners=PLAINTEXT://:9092,REPLICATION://:9093\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,REPLICATION:PLAINTEXT\nadvertised.listeners=PLAINTEXT://h:9092\ninter.broker.listener.name=REPLICATION",
        "inter.broker.listener.name", "The valid options based on currently configured listeners are PLAINTEXT")]
    [InlineData("inter.broker.listener.name=PLAINTEXT\nsecurity.inter.broker.protocol=PLAINTEXT", "inter.broker.listener.name", "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.")]
    [InlineData("security.inter.broker.protocol=SSL", "security.inter.broker.protocol", "not supported")]
    [InlineData("security.inter.broker.protocol=TLS", "security.inter.broker.protocol", "Invalid value TLS")]
    [InlineData("listener.security.protocol.map=PLAINTEXT:TLS", "listener.security.protocol.map", "Invalid security protocol `TLS`")]
    [InlineData("listener.security.protocol.map=PLAINTEXT", "listener.security.protocol.map", "is not of the form NAME:PROTOCOL")]
    [InlineData("control.plane.listener.name=CONTROL", "control.plane.listener.name", "must be a listener name defined in advertised.listeners")]
    [InlineData("control.plane.listener.name=PLAINTEXT", "control.plane.listener.name", "should have a different value from the inter broker listener name")]
    [InlineData("listeners=PLAINTEXT://:70000", "listeners", "no valid port")]
    public void Listener_settings_are_checked_as_kafka_checks_them(string text, string key, string words)
    {
        var e = Assert.Throws<BrokerConfigException>(() => Parse(text));
        Assert.StartsWith(key + ":", e.Message);
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void Deprecated_version_settings_of_kafka_3_are_taken_without_warning_and_topics_describe_the_format_version()
    {
        var warnings = new List<string>();
        var options = Parse("inter.broker.protocol.version=2.8\nlog.message.format.version=2.8-IV1\n", warnings);
        Assert.Empty(warnings);
        var entry = TopicConfigs.Find("message.format.version")!;
        Assert.Equal("2.8-IV1", entry.Default(options));
        Assert.Equal("3.0-IV1", entry.Default(Parse("")));
        foreach (string version in new[] { "0.10.0", "0.10.0.1", "0.10.0-IV1", "2.8.1", "3.0-IV1", "3.7" })
            Assert.Null(TopicConfigs.Validate("message.format.version", version));
        foreach (string version in new[] { "", "2", "latest", "4.0", "3.0-beta", "0.7.0" })
            Assert.NotNull(TopicConfigs.Validate("message.format.version", version));
    }

    [Fact]
    public void Properties_syntax_follows_java()
    {
        var props = PropertiesFile.Parse("a = 1\n! comment\nb:2\nc 3\nd=one,\\\n    two\ne=x\\ty\\u0041\n  # indented comment\n");
        Assert.Equal("1", props["a"]);
        Assert.Equal("2", props["b"]);
        Assert.Equal("3", props["c"]);
        Assert.Equal("one,two", props["d"]);
        Assert.Equal("x\tyA", props["e"]);
        Assert.Equal(5, props.Count);
    }

    [Fact]
    public void Topic_configs_are_validated_and_applied_over_the_broker_defaults()
    {
        Assert.Null(TopicConfigs.Validate("retention.ms", "1000"));
        Assert.NotNull(TopicConfigs.Validate("retention.ms", "soon"));
        Assert.NotNull(TopicConfigs.Validate("no.such.config", "1"));
        Assert.NotNull(TopicConfigs.Validate("cleanup.policy", "shred"));
        var config = TopicConfigs.ToLogConfig(LogConfig.Default, new Dictionary<string, string>
        {
            ["retention.ms"] = "1000", ["segment.bytes"] = "4096", ["cleanup.policy"] = "compact", ["message.timestamp.type"] = "LogAppendTime",
        });
        Assert.Equal(1000, config.RetentionMs);
        Assert.Equal(4096, config.SegmentBytes);
        Assert.Equal(CleanupPolicy.Compact, config.CleanupPolicy);
        Assert.True(config.LogAppendTime);
    }

    [Fact]
    public void The_metrics_port_is_off_unless_set_and_binds_the_listener_host_unless_told_otherwise()
    {
        var warnings = new List<string>();
        var off = Parse("listeners=PLAINTEXT://10.1.2.3:9092", warnings);
        Assert.Equal(0, off.MetricsPort);
        Assert.Null(off.MetricsHost);
        var on = Parse("metrics.http.port=7071\nmetrics.http.host=0.0.0.0", warnings);
        Assert.Equal(7071, on.MetricsPort);
        Assert.Equal("0.0.0.0", on.MetricsHost);
        Assert.Empty(warnings);
        Assert.Contains("metrics.http.port", Assert.Throws<BrokerConfigException>(() => Parse("metrics.http.port=70000")).Message);
    }

    [Fact]
    public void the_log_cleaner_runs_on_its_own_interval_log_cleaner_backoff_ms_not_the_retention_check()
    {
        var defaults = Parse("log.retention.check.interval.ms=1000");
        Assert.Equal(15_000, defaults.LogCleanerBackoffMs);
        Assert.Equal(1000, defaults.RetentionCheckIntervalMs);
        var warnings = new List<string>();
        Assert.Equal(250, Parse("log.cleaner.backoff.ms=250", warnings).LogCleanerBackoffMs);
        Assert.Empty(warnings);
        Assert.Contains("log.cleaner.backoff.ms", Assert.Throws<BrokerConfigException>(() => Parse("log.cleaner.backoff.ms=0")).Message);
    }
}
