using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tests.Server;

/// <summary>maxClientCnxns: connections from one address past the limit are closed at once, counted in accept order.</summary>
public sealed class ConnectionLimitTests : IAsyncLifetime
{
    private InProcessKeeper _keeper = null!;

    public async Task InitializeAsync() => _keeper = await InProcessKeeper.StartAsync(o => o.MaxClientCnxns = 2);
    public async Task DisposeAsync() => await _keeper.DisposeAsync();

    [Fact]
    public async Task The_connection_past_the_limit_is_closed_and_a_slot_frees_when_one_closes()
    {
        var (first, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        var (second, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (first)
        using (second)
        {
            using (var third = RawZkClient.Open(_keeper.Port))
                Assert.True(await third.IsClosedByServerAsync());
            // The two within the limit are still served.
            var (h, _) = await second.CallAsync(OpCode.Exists, new PathWatchRequest("/", false));
            Assert.Equal(ErrorCode.Ok, h.Err);

            first.Dispose();
            // Once the server has seen the first one go, a new connection is let in.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (_keeper.Server.Connections.Count > 1)
            {
                Assert.True(DateTime.UtcNow < deadline, "the server did not notice the closed connection within 30 s");
                await Task.Delay(20);
            }
            var (again, response) = await RawZkClient.ConnectAsync(_keeper.Port);
            using (again) Assert.True(response.Timeout > 0);
        }
    }
}
