using System.Text;
using Quill.Keeper.Client;
using Quill.Testing;

namespace Quill.Tools.Tests;

/// <summary>--zookeeper: the tool finds a broker registered in Keeper under /brokers/ids and asks it.</summary>
[Collection(MockBrokerCollection.Name)]
public sealed class ZookeeperOptionTests(MockBroker broker)
{
    [Fact]
    public async Task Topics_list_through_zookeeper_reaches_the_registered_broker()
    {
        await using var keeper = await KeeperProcess.StartAsync();
        string[] hostPort = broker.BootstrapServers.Split(':');
        await using (var client = await KeeperClient.ConnectAsync(keeper.ConnectString))
        {
            await client.CreateAsync("/brokers", []);
            await client.CreateAsync("/brokers/ids", []);
            string registration = $$"""{"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://{{broker.BootstrapServers}}"],"jmx_port":-1,"host":"{{hostPort[0]}}","timestamp":"1","port":{{hostPort[1]}},"version":4}""";
            await client.CreateAsync("/brokers/ids/1", Encoding.UTF8.GetBytes(registration));
        }
        string topic = "zk-" + Guid.NewGuid().ToString("N")[..8];
        var produced = await QuillTool.RunAsync(["produce", "--zookeeper", keeper.ConnectString, "--topic", topic], "x\n");
        Assert.True(produced.Succeeded, produced.ToString());

        var list = await QuillTool.RunAsync("topics", "--zookeeper", keeper.ConnectString, "--list");
        Assert.True(list.Succeeded, list.ToString());
        Assert.Contains(topic, list.Lines());
        Assert.Contains($"/brokers/ids ({broker.BootstrapServers})", list.StdErr);
    }

    [Fact]
    public async Task Zookeeper_without_registered_brokers_fails_with_a_message()
    {
        await using var keeper = await KeeperProcess.StartAsync();
        var result = await QuillTool.RunAsync("topics", "--zookeeper", keeper.ConnectString, "--list");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("/brokers/ids", result.StdErr);
    }
}
