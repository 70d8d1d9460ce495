using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Quill.Keeper.Client.Tests;

/// <summary>The client's pings run on the clock its options give (an in-process Keeper counts what arrives).</summary>
public sealed class ClockTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "quill-client-clock-" + Guid.NewGuid().ToString("N")[..8]);
    private Quill.Keeper.KeeperServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = new Quill.Keeper.KeeperServer(new Quill.Keeper.KeeperOptions { DataDir = _dir, ClientPort = 0, ClientPortAddress = "127.0.0.1" },
            NullLoggerFactory.Instance);
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_ping_goes_out_when_the_given_clock_passes_a_third_of_the_session_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // 30 s: on the real clock the first ping would come 10 s after connecting, far past this test's waits.
        await using var client = await KeeperClient.ConnectAsync($"127.0.0.1:{_server.Endpoint.Port}",
            new KeeperClientOptions { SessionTimeout = TimeSpan.FromSeconds(30), TimeProvider = time });
        await client.ExistsAsync("/");
        var connection = _server.Connections.Single();
        long before = connection.PacketsReceived;

        time.Advance(client.SessionTimeout / 3 + TimeSpan.FromMilliseconds(1));
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (connection.PacketsReceived == before)
        {
            Assert.True(DateTime.UtcNow < deadline, "no ping within 5 s of advancing the client's clock past the ping interval");
            await Task.Delay(20);
        }
        Assert.Equal(SessionState.Connected, client.State);
    }
}
