using System.Security.Cryptography;
using Quill.Keeper.Client.Tests.Fixtures;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Tests;

/// <summary>The server's error codes reach the caller as KeeperException with the code and the caller's path.</summary>
public abstract class ErrorTests(KeeperServerFixture server) : ClientTestBase(server)
{
    [Fact]
    public async Task NoNode_for_missing_nodes_and_missing_parents()
    {
        var e = await ThrowsKeeper(ErrorCode.NoNode, () => Client.GetDataAsync(P("missing")));
        Assert.Equal(P("missing"), e.Path);
        await ThrowsKeeper(ErrorCode.NoNode, () => Client.CreateAsync(P("no/parent"), null));
        await ThrowsKeeper(ErrorCode.NoNode, () => Client.SetDataAsync(P("missing"), null));
        await ThrowsKeeper(ErrorCode.NoNode, () => Client.DeleteAsync(P("missing")));
        await ThrowsKeeper(ErrorCode.NoNode, () => Client.GetChildrenAsync(P("missing")));
        await ThrowsKeeper(ErrorCode.NoNode, () => Client.GetAclAsync(P("missing")));
        Assert.Null(await Client.ExistsAsync(P("missing")));
    }

    [Fact]
    public async Task NodeExists_on_second_create()
    {
        await Client.CreateAsync(P("dup"), null);
        await ThrowsKeeper(ErrorCode.NodeExists, () => Client.CreateAsync(P("dup"), null));
    }

    [Fact]
    public async Task BadVersion_on_stale_set_delete_and_setAcl()
    {
        await Client.CreateAsync(P("v"), null);
        await Client.SetDataAsync(P("v"), Bytes("1"));
        await ThrowsKeeper(ErrorCode.BadVersion, () => Client.SetDataAsync(P("v"), Bytes("2"), version: 0));
        await ThrowsKeeper(ErrorCode.BadVersion, () => Client.DeleteAsync(P("v"), version: 5));
        await ThrowsKeeper(ErrorCode.BadVersion, () => Client.SetAclAsync(P("v"), Acl.OpenAclUnsafe, aclVersion: 3));
    }

    [Fact]
    public async Task NotEmpty_when_deleting_a_parent()
    {
        await Client.CreateAsync(P("parent"), null);
        await Client.CreateAsync(P("parent/child"), null);
        await ThrowsKeeper(ErrorCode.NotEmpty, () => Client.DeleteAsync(P("parent")));
    }

    [Fact]
    public async Task NoChildrenForEphemerals_when_creating_under_an_ephemeral()
    {
        await Client.CreateAsync(P("eph"), null, mode: CreateMode.Ephemeral);
        await ThrowsKeeper(ErrorCode.NoChildrenForEphemerals, () => Client.CreateAsync(P("eph/child"), null));
    }

    [Fact]
    public async Task InvalidAcl_for_an_empty_acl()
    {
        await ThrowsKeeper(ErrorCode.InvalidAcl, () => Client.CreateAsync(P("noacl"), null, acl: []));
    }

    [Fact]
    public async Task NoAuth_until_the_digest_credentials_are_added()
    {
        var digestAcl = new[] { new Acl(Perms.All, new Id("digest", "bob:" + DigestOf("bob:pw"))) };
        var owner = await ConnectAsync();
        await owner.AddAuthAsync("digest", Bytes("bob:pw"));
        await owner.CreateAsync(P("secret"), Bytes("s"), digestAcl);

        await ThrowsKeeper(ErrorCode.NoAuth, () => Client.GetDataAsync(P("secret")));
        await ThrowsKeeper(ErrorCode.NoAuth, () => Client.SetDataAsync(P("secret"), Bytes("x")));
        await Client.AddAuthAsync("digest", Bytes("bob:wrong"));
        await ThrowsKeeper(ErrorCode.NoAuth, () => Client.GetDataAsync(P("secret")));

        var friend = await ConnectAsync();
        await friend.AddAuthAsync("digest", Bytes("bob:pw"));
        Assert.Equal("s", Text((await friend.GetDataAsync(P("secret"))).Data));
    }

    [Fact]
    public async Task Creator_acl_uses_the_authenticated_identity()
    {
        await Client.AddAuthAsync("digest", Bytes("carol:pw"));
        await Client.CreateAsync(P("mine"), null, Acl.CreatorAllAcl);
        var acl = (await Client.GetAclAsync(P("mine"))).Acl;
        Assert.Equal([new Acl(Perms.All, new Id("digest", "carol:" + DigestOf("carol:pw")))], acl);
        var stranger = await ConnectAsync();
        await ThrowsKeeper(ErrorCode.NoAuth, () => stranger.GetDataAsync(P("mine")));
    }

    [Fact]
    public async Task Creator_acl_without_auth_is_InvalidAcl()
    {
        await ThrowsKeeper(ErrorCode.InvalidAcl, () => Client.CreateAsync(P("mine"), null, Acl.CreatorAllAcl));
    }

    [Fact]
    public async Task Unknown_auth_scheme_is_AuthFailed_and_the_client_recovers()
    {
        var client = await ConnectAsync();
        var states = new List<SessionState>();
        client.StateChanged += (_, s) => { lock (states) states.Add(s); };
        await ThrowsKeeper(ErrorCode.AuthFailed, () => client.AddAuthAsync("no-such-scheme", Bytes("x")));
        // The server closes the connection after a failed auth; the same session carries on without those credentials.
        await Soon(client.WaitForStateAsync(SessionState.Connected));
        await client.CreateAsync(P("after-auth-failed"), null);
        lock (states) Assert.Contains(SessionState.AuthFailed, states);
    }

    [Fact]
    public async Task Cancelled_call_throws_OperationCanceled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client.GetDataAsync(Root, cancellationToken: cancelled.Token));
        Assert.NotNull(await Client.ExistsAsync(Root)); // the client is still in step after a skipped request
    }

    /// <summary>ZooKeeper's digest: base64(sha1("user:password")).</summary>
    private static string DigestOf(string userPassword) => Convert.ToBase64String(SHA1.HashData(Bytes(userPassword)));
}

public sealed class ErrorTestsOnApacheZooKeeper(ApacheZooKeeperFixture server)
    : ErrorTests(server), IClassFixture<ApacheZooKeeperFixture>;

public sealed class ErrorTestsOnKeeper(QuillKeeperFixture server)
    : ErrorTests(server), IClassFixture<QuillKeeperFixture>;
