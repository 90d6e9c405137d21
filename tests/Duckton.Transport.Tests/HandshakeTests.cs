using System.Net;
using System.Security.Authentication;
using Duckton.Core.Configuration;

namespace Duckton.Transport.Tests;

public sealed class HandshakeTests
{
    [Fact]
    public async Task Handshake_succeeds_both_ways_with_matching_ids_TLS13_and_ALPN()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        var inbound = new TaskCompletionSource<PeerConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options() with { SoftwareVersion = "server-9" },
            async (c, ct) =>
            {
                inbound.SetResult(c);
                await release.Task.WaitAsync(ct);
            });
        await using var connection = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), server.NodeId,
            Loopback.Options() with { AdvertisedAddress = "10.1.2.3:9494" });
        var accepted = await inbound.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(server.NodeId, connection.RemoteNodeId);
        Assert.Equal(server.PublicKey.ToArray(), connection.RemotePublicKey.ToArray());
        Assert.Equal(client.NodeId, accepted.RemoteNodeId);
        Assert.Equal(client.PublicKey.ToArray(), accepted.RemotePublicKey.ToArray());
        Assert.Equal(SslProtocols.Tls13, connection.TlsProtocol);
        Assert.Equal(SslProtocols.Tls13, accepted.TlsProtocol);
        Assert.Equal("duckdb-p2p/1", connection.ApplicationProtocol);
        Assert.Equal("duckdb-p2p/1", accepted.ApplicationProtocol);
        Assert.Equal("1.1.0", connection.NegotiatedVersion);
        Assert.True(connection.SpeaksAtLeast(1, 1) && connection.SpeaksAtLeast(1, 0) && !connection.SpeaksAtLeast(1, 2) && !connection.SpeaksAtLeast(2, 0));
        Assert.False(connection.IsInbound);
        Assert.True(accepted.IsInbound);

        Assert.Equal(new PeerHello("duckdb-p2p", "1.1.0", "1.0.0", server.NodeId, "server-9", Loopback.Address(listener)) { MaxFrameBytes = 16 << 20 },
            connection.RemoteHello);
        Assert.Equal(new PeerHello("duckdb-p2p", "1.1.0", "1.0.0", client.NodeId, "0.1.0", "10.1.2.3:9494") { MaxFrameBytes = 16 << 20 },
            accepted.RemoteHello);

        await connection.SendAsync(MessageType.Ping, "hi"u8.ToArray());
        var ping = await accepted.ReceiveAsync();
        Assert.Equal(MessageType.Ping, ping.Type);
        Assert.Equal("hi"u8.ToArray(), ping.Payload.ToArray());
        await accepted.SendAsync(MessageType.Pong, ReadOnlyMemory<byte>.Empty);
        Assert.Equal(MessageType.Pong, (await connection.ReceiveAsync()).Type);
        release.SetResult();
        // The listener closes the connection when the handler returns: a clean end of stream.
        await Assert.ThrowsAsync<EndOfStreamException>(async () => await connection.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(connection.IsOpen);
    }

    [Fact]
    public async Task A_peer_whose_id_differs_from_the_expected_id_is_refused()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        using var someoneElse = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        var ex = await Assert.ThrowsAsync<PeerRejectedException>(() =>
            PeerConnector.ConnectAsync(client, Loopback.Address(listener), someoneElse.NodeId, Loopback.Options()));
        Assert.Equal(RejectReason.IdentityMismatch, ex.Reason);
        Assert.False(ex.ByRemote);
        Assert.Equal(server.NodeId, ex.RemoteNodeId);
        Assert.Contains(someoneElse.NodeId, ex.Message, StringComparison.Ordinal);
        Assert.Contains(server.NodeId, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tofu_pins_the_first_id_per_address_and_refuses_a_later_mismatch()
    {
        using var temp = new TempDir();
        var pins = temp.Combine("known_peers");
        using var serverA = NodeIdentity.Create();
        using var serverB = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        var options = Loopback.Options() with { KnownPeersPath = pins };
        await using var listenerA = await PeerListener.StartAsync(serverA, Loopback.Any, Loopback.Options(), Loopback.Echo);
        await using var listenerB = await PeerListener.StartAsync(serverB, Loopback.Any, Loopback.Options(), Loopback.Echo);

        await (await PeerConnector.ConnectAsync(client, Loopback.Address(listenerA), null, options)).DisposeAsync();
        Assert.Contains($"{Loopback.Address(listenerA)} {serverA.NodeId}", File.ReadAllText(pins), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pins));
        }
        // Same peer again: fine.
        await (await PeerConnector.ConnectAsync(client, Loopback.Address(listenerA), null, options)).DisposeAsync();

        // B's address now claims to be A (as if A's address were taken over by B).
        File.AppendAllText(pins, $"{Loopback.Address(listenerB)} {serverA.NodeId}\n");
        var ex = await Assert.ThrowsAsync<PeerRejectedException>(() => PeerConnector.ConnectAsync(client, Loopback.Address(listenerB), null, options));
        Assert.Equal(RejectReason.PinMismatch, ex.Reason);
        Assert.Contains("pinned", ex.Message, StringComparison.Ordinal);
        Assert.Contains(pins, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tofu_pins_default_to_known_peers_in_the_config_directory()
    {
        using var temp = new TempDir();
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.LoadOrCreate(temp.Combine("client"));
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        await (await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options())).DisposeAsync();
        var line = File.ReadAllLines(Path.Combine(temp.Combine("client"), "known_peers")).Single(l => !l.StartsWith('#'));
        Assert.Equal($"{Loopback.Address(listener)} {server.NodeId}", line);
    }

    [Fact]
    public async Task Allowlist_refuses_unlisted_peers_on_both_sides()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        using var other = NodeIdentity.Create();

        // The client refuses a server that is not on its list.
        await using (var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo))
        {
            var strictClient = Loopback.Options() with { Pinning = PinningMode.Allowlist, Allowlist = [other.NodeId] };
            var ex = await Assert.ThrowsAsync<PeerRejectedException>(() => PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, strictClient));
            Assert.Equal(RejectReason.NotAllowlisted, ex.Reason);
            Assert.False(ex.ByRemote);

            var okClient = strictClient with { Allowlist = [other.NodeId, server.NodeId] };
            await (await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, okClient)).DisposeAsync();
        }

        // The server refuses a client that is not on its list, and says why.
        var strictServer = Loopback.Options() with { Pinning = PinningMode.Allowlist, Allowlist = [other.NodeId] };
        await using (var listener = await PeerListener.StartAsync(server, Loopback.Any, strictServer, Loopback.Echo))
        {
            var ex = await Assert.ThrowsAsync<PeerRejectedException>(() => PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options()));
            Assert.Equal(RejectReason.NotAllowlisted, ex.Reason);
            Assert.True(ex.ByRemote);
            Assert.Contains(client.NodeId, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Blocked_peers_are_refused_on_both_sides()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        await using (var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options() with { IsBlocked = id => id == client.NodeId }, Loopback.Echo))
        {
            var ex = await Assert.ThrowsAsync<PeerRejectedException>(() => PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options()));
            Assert.Equal(RejectReason.Blocked, ex.Reason);
            Assert.True(ex.ByRemote);
        }
        await using (var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo))
        {
            var ex = await Assert.ThrowsAsync<PeerRejectedException>(() =>
                PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options() with { IsBlocked = id => id == server.NodeId }));
            Assert.Equal(RejectReason.Blocked, ex.Reason);
            Assert.False(ex.ByRemote);
        }
    }

    [Fact]
    public async Task An_incompatible_protocol_major_is_rejected_with_a_clear_reason()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        var log = new ListLogger();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(log), Loopback.Echo);
        var ex = await Assert.ThrowsAsync<PeerRejectedException>(() =>
            PeerConnector.ConnectAsync(client, Loopback.Address(listener), server.NodeId, Loopback.Options() with { ProtocolVersion = "2.0.0" }));
        Assert.Equal(RejectReason.IncompatibleVersion, ex.Reason);
        Assert.True(ex.ByRemote);
        Assert.Equal("peer speaks duckdb-p2p 2.x; this node supports 1.x", ex.Detail);
        Assert.Contains("peer speaks duckdb-p2p 2.x; this node supports 1.x", ex.Message, StringComparison.Ordinal);
        await log.WaitForAsync(e => e.Id.Id == 1102 && e.Message.Contains("IncompatibleVersion", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Versions_negotiate_down_within_a_major_and_respect_minimums()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options() with { ProtocolVersion = "1.4.2" }, Loopback.Echo);
        await using (var c = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options() with { ProtocolVersion = "1.2.0" }))
        {
            Assert.Equal("1.2.0", c.NegotiatedVersion);
        }
        // The client demands at least 1.5.0: the 1.4.2 server applies the same rules and refuses it.
        var ex = await Assert.ThrowsAsync<PeerRejectedException>(() => PeerConnector.ConnectAsync(client, Loopback.Address(listener), null,
            Loopback.Options() with { ProtocolVersion = "1.6.0", MinSupportedVersion = "1.5.0" }));
        Assert.Equal(RejectReason.IncompatibleVersion, ex.Reason);
        Assert.True(ex.ByRemote);
        Assert.Equal("peer requires duckdb-p2p 1.5.0 or later; this node speaks 1.4.2", ex.Detail);
        // A client below the server's minimum is refused too.
        await using var strict = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options() with { ProtocolVersion = "1.4.2", MinSupportedVersion = "1.3.0" }, Loopback.Echo);
        ex = await Assert.ThrowsAsync<PeerRejectedException>(() => PeerConnector.ConnectAsync(client, Loopback.Address(strict), null,
            Loopback.Options() with { ProtocolVersion = "1.2.9" }));
        Assert.Equal("peer speaks duckdb-p2p 1.2.9; this node requires at least 1.3.0", ex.Detail);
    }

    [Fact]
    public async Task A_listener_at_its_connection_limit_answers_busy()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options() with { MaxInboundConnections = 1 }, Loopback.Echo);
        await using var first = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options());
        await first.SendAsync(MessageType.Ping, ReadOnlyMemory<byte>.Empty);
        await first.ReceiveAsync(); // the handler runs
        var ex = await Assert.ThrowsAsync<PeerRejectedException>(() => PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options()));
        Assert.Equal(RejectReason.Busy, ex.Reason);
    }

    [Fact]
    public async Task A_silent_server_times_out_with_a_clear_error()
    {
        using var client = NodeIdentity.Create();
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => PeerConnector.ConnectAsync(client, $"127.0.0.1:{port}", null,
            Loopback.Options() with { HandshakeTimeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Contains("did not complete within 0.3 s", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silent_client_is_dropped_after_the_handshake_timeout_and_logged()
    {
        using var server = NodeIdentity.Create();
        var log = new ListLogger();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any,
            Loopback.Options(log) with { HandshakeTimeout = TimeSpan.FromMilliseconds(300) }, Loopback.Echo);
        using var raw = new System.Net.Sockets.TcpClient();
        await raw.ConnectAsync(listener.LocalEndPoint);
        var entry = await log.WaitForAsync(e => e.Id.Id == 1101);
        Assert.IsType<TimeoutException>(entry.Exception);
        var buffer = new byte[16];
        Assert.Equal(0, await raw.GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Connecting_to_a_closed_port_is_an_IOException_naming_the_address()
    {
        using var client = NodeIdentity.Create();
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var ex = await Assert.ThrowsAsync<IOException>(() => PeerConnector.ConnectAsync(client, $"127.0.0.1:{port}", null, Loopback.Options()));
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData("[::1:9494")]
    public async Task Bad_addresses_are_argument_errors(string address)
    {
        using var client = NodeIdentity.Create();
        await Assert.ThrowsAsync<ArgumentException>(() => PeerConnector.ConnectAsync(client, address, null, Loopback.Options()));
    }

    [Fact]
    public void Options_are_validated_with_messages_that_name_the_option()
    {
        Assert.Contains("Allowlist", Assert.Throws<ArgumentException>(() => (TransportOptions.Default with { Pinning = PinningMode.Allowlist }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("Allowlist entry", Assert.Throws<ArgumentException>(() => (TransportOptions.Default with { Allowlist = ["b3:nope"] }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("MaxFrameBytes", Assert.Throws<ArgumentException>(() => (TransportOptions.Default with { MaxFrameBytes = 10 }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("ProtocolVersion", Assert.Throws<ArgumentException>(() => (TransportOptions.Default with { ProtocolVersion = "1.0" }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("MinSupportedVersion", Assert.Throws<ArgumentException>(() => (TransportOptions.Default with { MinSupportedVersion = "1.2.0", ProtocolVersion = "1.1.0" }).Validate()).Message, StringComparison.Ordinal);
        TransportOptions.Default.Validate();
    }
}
