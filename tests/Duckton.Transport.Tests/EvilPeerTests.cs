namespace Duckton.Transport.Tests;

public sealed class EvilPeerTests
{
    public static TheoryData<EvilCertificate, string> BrokenCertificates => new()
    {
        { EvilCertificate.Unbound, "no duckton identity binding" },
        { EvilCertificate.SignedByOtherKey, "does not verify" },
        { EvilCertificate.SwappedKey, "does not verify" },
        { EvilCertificate.Malformed, "malformed" },
    };

    [Theory]
    [MemberData(nameof(BrokenCertificates))]
    public async Task A_client_refuses_a_server_with_a_broken_binding(EvilCertificate kind, string expected)
    {
        using var evil = NodeIdentity.Create();
        using var victim = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        using var certificate = EvilPeers.Certificate(kind, evil, victim);
        var (port, served) = await EvilPeers.StartServerAsync(certificate, victim.NodeId);
        var ex = await Assert.ThrowsAsync<PeerRejectedException>(() => PeerConnector.ConnectAsync(client, $"127.0.0.1:{port}", null, Loopback.Options()));
        Assert.Equal(RejectReason.CertificateNotBound, ex.Reason);
        Assert.False(ex.ByRemote);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        await served.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_client_refuses_an_impostor_even_when_it_expects_the_victim()
    {
        // The impostor presents the victim's id with a binding it could not make: refused before the id is even compared.
        using var evil = NodeIdentity.Create();
        using var victim = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        using var certificate = EvilPeers.Certificate(EvilCertificate.SignedByOtherKey, evil, victim);
        var (port, served) = await EvilPeers.StartServerAsync(certificate, victim.NodeId);
        var ex = await Assert.ThrowsAsync<PeerRejectedException>(() => PeerConnector.ConnectAsync(client, $"127.0.0.1:{port}", victim.NodeId, Loopback.Options()));
        Assert.Equal(RejectReason.CertificateNotBound, ex.Reason);
        await served.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_server_whose_HelloAck_claims_another_id_is_refused()
    {
        using var evil = NodeIdentity.Create();
        using var victim = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        using var certificate = EvilPeers.Certificate(EvilCertificate.Honest, evil, victim);
        var (port, served) = await EvilPeers.StartServerAsync(certificate, victim.NodeId);
        var ex = await Assert.ThrowsAsync<PeerRejectedException>(() => PeerConnector.ConnectAsync(client, $"127.0.0.1:{port}", null, Loopback.Options()));
        Assert.Equal(RejectReason.IdentityMismatch, ex.Reason);
        Assert.Contains(evil.NodeId, ex.Message, StringComparison.Ordinal);
        await served.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [MemberData(nameof(BrokenCertificates))]
    public async Task A_server_rejects_a_client_with_a_broken_binding_and_says_why(EvilCertificate kind, string expected)
    {
        using var server = NodeIdentity.Create();
        using var evil = NodeIdentity.Create();
        using var victim = NodeIdentity.Create();
        var log = new ListLogger();
        var handled = 0;
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(log), (_, _) =>
        {
            Interlocked.Increment(ref handled);
            return Task.CompletedTask;
        });
        using var certificate = EvilPeers.Certificate(kind, evil, victim);
        var (type, code, message) = await EvilPeers.ClientAsync(certificate, listener.LocalEndPoint.Port, victim.NodeId);
        Assert.Equal(MessageType.Reject, type);
        Assert.Equal((ushort)RejectReason.CertificateNotBound, code);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Equal(0, handled);
        await log.WaitForAsync(e => e.Id.Id == 1102 && e.Message.Contains("CertificateNotBound", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_server_rejects_a_client_whose_Hello_claims_another_id()
    {
        using var server = NodeIdentity.Create();
        using var evil = NodeIdentity.Create();
        using var victim = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        using var certificate = EvilPeers.Certificate(EvilCertificate.Honest, evil, victim);
        var (type, code, message) = await EvilPeers.ClientAsync(certificate, listener.LocalEndPoint.Port, victim.NodeId);
        Assert.Equal(MessageType.Reject, type);
        Assert.Equal((ushort)RejectReason.IdentityMismatch, code);
        Assert.Contains(evil.NodeId, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hand_built_Hello_following_the_documented_layout_is_accepted()
    {
        using var server = NodeIdentity.Create();
        using var honest = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        using var certificate = EvilPeers.Certificate(EvilCertificate.Honest, honest, honest);
        var (type, _, _) = await EvilPeers.ClientAsync(certificate, listener.LocalEndPoint.Port, honest.NodeId);
        Assert.Equal(MessageType.HelloAck, type);
    }

    [Fact]
    public async Task A_raw_client_speaking_major_2_gets_the_version_reject()
    {
        using var server = NodeIdentity.Create();
        using var honest = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        using var certificate = EvilPeers.Certificate(EvilCertificate.Honest, honest, honest);
        var (type, code, message) = await EvilPeers.ClientAsync(certificate, listener.LocalEndPoint.Port, honest.NodeId, protocolVersion: "2.3.0");
        Assert.Equal(MessageType.Reject, type);
        Assert.Equal((ushort)RejectReason.IncompatibleVersion, code);
        Assert.Equal("peer speaks duckdb-p2p 2.x; this node supports 1.x", message);
    }
}
