using Xunit.Abstractions;

namespace Quill.Broker.Compat.Tests.Faults;

/// <summary>
/// The short form of the broker fault test (the long one is scripts/broker-fault-test.sh): 40 s of idempotent acks=all
/// writers and a consumer group while leaders and the controller are killed, brokers paused and cut off; then the
/// history must check clean (<see cref="HistoryChecker"/>).
/// </summary>
public sealed class BrokerFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task acknowledged_records_survive_killed_leaders_and_controllers_paused_and_cut_off_brokers_exactly_once_on_every_replica()
    {
        var options = new BrokerFaultRunOptions(TimeSpan.FromSeconds(40), BrokerFaultKinds.All) { HealDeadline = TimeSpan.FromSeconds(90) };
        var result = await BrokerFaultRun.RunAsync(options, line => output.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}"));
        output.WriteLine(result.ToString());
        Assert.True(result.Valid, result.ToString());
        Assert.True(result.Faults >= 2, $"only {result.Faults} faults were injected\n{result}");
        Assert.True(result.LeaderElections >= 1, $"no leader ever moved\n{result}");
        Assert.True(result.Report.Acks > 1000, $"only {result.Report.Acks} records were acknowledged\n{result}");
    }
}
