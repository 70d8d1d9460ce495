using System.Buffers.Binary;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tests.Server;

/// <summary>Bad input gets ZooKeeper's answer (or a closed connection where ZooKeeper closes it), and nobody else notices.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private InProcessKeeper _keeper = null!;
    private RawZkClient _bystander = null!;

    public async Task InitializeAsync()
    {
        _keeper = await InProcessKeeper.StartAsync(o => o.JuteMaxBuffer = 4096);
        (_bystander, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        var (h, _) = await _bystander.CallAsync(OpCode.Create, new CreateRequest("/kept", "safe"u8.ToArray(), [.. Acl.OpenAclUnsafe], 0));
        Assert.Equal(ErrorCode.Ok, h.Err);
    }

    public async Task DisposeAsync()
    {
        // Whatever happened, the other client's session and data are intact.
        var (h, body) = await _bystander.CallAsync(OpCode.GetData, new PathWatchRequest("/kept", false));
        Assert.Equal(ErrorCode.Ok, h.Err);
        var r = new JuteReader(body);
        Assert.Equal("safe"u8.ToArray(), GetDataResponse.Read(ref r).Data);
        _bystander.Dispose();
        await _keeper.DisposeAsync();
    }

    private static byte[] Prefix(int length)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, length);
        return b;
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    [InlineData(4097)]
    [InlineData(int.MaxValue)]
    public async Task frame_length_outside_jute_max_buffer_closes_the_connection(int length)
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            c.SendRaw(Prefix(length));
            Assert.True(await c.IsClosedByServerAsync());
        }
    }

    [Fact]
    public async Task oversized_length_before_the_handshake_closes_the_connection()
    {
        using var c = RawZkClient.Open(_keeper.Port);
        c.SendRaw(Prefix(1 << 30));
        Assert.True(await c.IsClosedByServerAsync());
    }

    [Fact]
    public async Task truncated_connect_request_closes_the_connection()
    {
        using var c = RawZkClient.Open(_keeper.Port);
        c.SendRaw([.. Prefix(6), 0, 0, 0, 0, 0, 0]);
        Assert.True(await c.IsClosedByServerAsync());
    }

    [Fact]
    public async Task request_too_short_for_its_header_closes_the_connection()
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            c.SendRaw([.. Prefix(3), 1, 2, 3]);
            Assert.True(await c.IsClosedByServerAsync());
        }
    }

    [Fact]
    public async Task unknown_opcode_is_answered_unimplemented_and_the_connection_closed()
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            var (h, _) = await c.CallAsync((OpCode)77, new PathRequest("/"));
            Assert.Equal(ErrorCode.Unimplemented, h.Err);
            Assert.True(await c.IsClosedByServerAsync());
        }
    }

    [Fact]
    public async Task malformed_body_is_answered_marshalling_error_and_the_connection_kept()
    {
        // ZooKeeper 3.8 does the same (MalformedRequestDifferentialTests compares the two).
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            c.SendFrame(w => { new RequestHeader(5, OpCode.GetData).Write(w); w.WriteInt(1000); w.WriteRaw("/x"u8); });
            var (h, _, _) = await c.ReadReplyAsync(5);
            Assert.Equal(ErrorCode.MarshallingError, h.Err);
            c.SendFrame(w => { new RequestHeader(6, OpCode.Create).Write(w); w.WriteInt(-7); });
            (h, _, _) = await c.ReadReplyAsync(6);
            Assert.Equal(ErrorCode.MarshallingError, h.Err);
            var (exists, _) = await c.CallAsync(OpCode.Exists, new PathWatchRequest("/kept", false));
            Assert.Equal(ErrorCode.Ok, exists.Err);
        }
    }

    [Fact]
    public async Task malformed_auth_packet_closes_the_connection_unanswered_and_loses_nothing_acknowledged()
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            var (create, _) = await c.CallAsync(OpCode.Create, new CreateRequest("/before-bad-auth", "v"u8.ToArray(), [.. Acl.OpenAclUnsafe], 0));
            Assert.Equal(ErrorCode.Ok, create.Err);
            c.SendFrame(w => { new RequestHeader(Xids.Auth, OpCode.Auth).Write(w); w.WriteInt(0); w.WriteString("digest"); w.WriteInt(50); });
            Assert.Null(await c.ReadFrameAsync());
        }
        var (h, _) = await _bystander.CallAsync(OpCode.Exists, new PathWatchRequest("/before-bad-auth", false));
        Assert.Equal(ErrorCode.Ok, h.Err);
    }

    [Fact]
    public async Task malformed_auth_pipelined_behind_the_handshake_closes_after_the_handshake_is_answered()
    {
        using var c = RawZkClient.Open(_keeper.Port);
        var w = new JuteWriter();
        w.BeginFrame();
        new ConnectRequest(0, 0, 30_000, 0, new byte[16], false, true).Write(w);
        w.EndFrame();
        w.BeginFrame();
        new RequestHeader(Xids.Auth, OpCode.Auth).Write(w);
        w.WriteInt(0);
        w.WriteInt(999_999);
        w.EndFrame();
        c.SendRaw(w.WrittenSpan);
        var handshake = await c.ReadFrameAsync();
        Assert.NotNull(handshake);
        var r = new JuteReader(handshake);
        Assert.NotEqual(0, ConnectResponse.Read(ref r).SessionId);
        Assert.Null(await c.ReadFrameAsync());
    }

    [Theory]
    [InlineData("", ErrorCode.BadArguments)]
    [InlineData("relative", ErrorCode.BadArguments)]
    [InlineData("/nul\0char", ErrorCode.BadArguments)]
    [InlineData("/kept/", ErrorCode.BadArguments)]
    [InlineData("/kept/.", ErrorCode.BadArguments)]
    [InlineData("/kept/..", ErrorCode.BadArguments)]
    // As in ZooKeeper, the parent is looked up before the whole path is validated.
    [InlineData("/missing/", ErrorCode.NoNode)]
    [InlineData("/double//slash", ErrorCode.NoNode)]
    public async Task InvalidPathsInCreateAreRefused(string path, ErrorCode expected)
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            var (create, _) = await c.CallAsync(OpCode.Create, new CreateRequest(path, [], [.. Acl.OpenAclUnsafe], 0));
            Assert.Equal(expected, create.Err);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("relative")]
    [InlineData("/trailing/")]
    [InlineData("/double//slash")]
    [InlineData("/dot/./x")]
    [InlineData("/dotdot/..")]
    [InlineData("/nul\0char")]
    public async Task invalid_paths_in_set_data_are_bad_arguments_and_reads_find_nothing(string path)
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            var (set, _) = await c.CallAsync(OpCode.SetData, new SetDataRequest(path, [], -1));
            Assert.Equal(ErrorCode.BadArguments, set.Err);
            if (path.Length == 0) return; // "" reads as the root in ZooKeeper
            var (get, _) = await c.CallAsync(OpCode.GetData, new PathWatchRequest(path, false));
            Assert.Equal(ErrorCode.NoNode, get.Err);
        }
    }

    [Fact]
    public async Task sequential_child_of_an_ephemeral_is_no_children_for_ephemerals()
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            var (h, _) = await c.CallAsync(OpCode.Create, new CreateRequest("/eph-parent", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.Ephemeral));
            Assert.Equal(ErrorCode.Ok, h.Err);
            (h, _) = await c.CallAsync(OpCode.Create, new CreateRequest("/eph-parent/seq-", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.PersistentSequential));
            Assert.Equal(ErrorCode.NoChildrenForEphemerals, h.Err);
        }
    }

    [Fact]
    public async Task invalid_create_flags_are_bad_arguments()
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            var (h, _) = await c.CallAsync(OpCode.Create, new CreateRequest("/flags", [], [.. Acl.OpenAclUnsafe], 42));
            Assert.Equal(ErrorCode.BadArguments, h.Err);
        }
    }

    [Fact]
    public async Task ttl_without_extended_types_is_unimplemented()
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            int xid = 9;
            c.SendFrame(w => { new RequestHeader(xid, OpCode.CreateTtl).Write(w); new CreateRequest("/ttl", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.PersistentWithTtl, 1000).Write(w, withTtl: true); });
            var (h, _, _) = await c.ReadReplyAsync(xid);
            Assert.Equal(ErrorCode.Unimplemented, h.Err);
        }
    }

    [Fact]
    public async Task empty_or_invalid_acl_is_invalid_acl()
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            var (h, _) = await c.CallAsync(OpCode.Create, new CreateRequest("/noacl", [], [], 0));
            Assert.Equal(ErrorCode.InvalidAcl, h.Err);
            (h, _) = await c.CallAsync(OpCode.Create, new CreateRequest("/badacl", [], [new Acl(Perms.All, new Id("digest", "no-colon"))], 0));
            Assert.Equal(ErrorCode.InvalidAcl, h.Err);
            (h, _) = await c.CallAsync(OpCode.Create, new CreateRequest("/authacl", [], [new Acl(Perms.All, Id.AuthIds)], 0));
            Assert.Equal(ErrorCode.InvalidAcl, h.Err);
        }
    }

    [Fact]
    public async Task a_client_that_floods_without_reading_is_slowed_down_not_buffered()
    {
        var (flooder, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (flooder)
        {
            // Far more requests than fit in memory budgets, and not a single answer read.
            const int count = 100_000;
            var w = new JuteWriter();
            for (int i = 1; i <= count; i++)
            {
                w.BeginFrame();
                new RequestHeader(i, OpCode.Exists).Write(w);
                new PathWatchRequest("/kept", false).Write(w);
                w.EndFrame();
            }
            var send = Task.Run(() => { try { flooder.SendRaw(w.WrittenSpan); } catch (IOException) { } });
            // Watch the server's output queues for a second after the first answers pile up (a busy machine may
            // take a while to get there).
            int maxPending = 0;
            var deadline = DateTime.UtcNow.AddSeconds(30);
            for (int samples = 0; samples < 20 && DateTime.UtcNow < deadline;)
            {
                await Task.Delay(50);
                foreach (var c in _keeper.Server.Connections) maxPending = Math.Max(maxPending, c.PendingOutputBytes);
                if (maxPending > 0) samples++;
            }
            // The server stopped reading the flooder instead of buffering its ~10 MB of answers.
            Assert.InRange(maxPending, 1, 2 * Quill.Keeper.Server.ClientConnection.MaxPendingOutput);
            // Everyone else is still served.
            var (h, _) = await _bystander.CallAsync(OpCode.Exists, new PathWatchRequest("/kept", false));
            Assert.Equal(ErrorCode.Ok, h.Err);
            // And the flooder gets every answer, in order, once it reads.
            for (int i = 1; i <= count; i++)
            {
                var (reply, _, _) = await flooder.ReadReplyAsync(i);
                Assert.Equal(i, reply.Xid);
            }
            await send;
        }
    }
}
