using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Duckton.Core.Configuration;

namespace Duckton.Transport;

public sealed partial class PeerConnection
{
    private static readonly List<SslApplicationProtocol> s_alpn = [new SslApplicationProtocol(TransportProtocol.Alpn)];

    /// <summary>
    /// Client side of the TLS policy: TLS 1.3 only, ALPN duckdb-p2p/1, SNI duckdb-p2p, our bound certificate always sent, no
    /// revocation or chain trust (self-signed by design). The server certificate is judged by <paramref name="verify"/> alone:
    /// the binding, the expected id, the deny-list, the allowlist and the TOFU pin.
    /// </summary>
    private static SslClientAuthenticationOptions ClientTls(TlsCredential credential, Func<X509Certificate?, bool> verify) => new()
    {
        TargetHost = TransportProtocol.TlsServerName,
        EnabledSslProtocols = SslProtocols.Tls13,
        ApplicationProtocols = s_alpn,
        ClientCertificateContext = credential.Context,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        EncryptionPolicy = EncryptionPolicy.RequireEncryption,
        AllowRenegotiation = false,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => verify(certificate),
    };

    /// <summary>
    /// Server side: TLS 1.3 only, ALPN duckdb-p2p/1, client certificate required. A connection without a client certificate fails
    /// the TLS handshake; a certificate whose binding fails is recorded by <paramref name="record"/> and answered with a Reject
    /// frame right after TLS, so the client learns why (no application data is exchanged before).
    /// </summary>
    private static SslServerAuthenticationOptions ServerTls(TlsCredential credential, Func<X509Certificate?, bool> record) => new()
    {
        ServerCertificateContext = credential.Context,
        EnabledSslProtocols = SslProtocols.Tls13,
        ApplicationProtocols = s_alpn,
        ClientCertificateRequired = true,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        EncryptionPolicy = EncryptionPolicy.RequireEncryption,
        AllowRenegotiation = false,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => record(certificate),
    };

    /// <summary>Refuses anything but TLS 1.3 with ALPN duckdb-p2p/1 (defence in depth: the options already demand both).</summary>
    private static void EnsureNegotiated(SslStream ssl, string address)
    {
        if (ssl.SslProtocol != SslProtocols.Tls13)
        {
            throw new PeerRejectedException(RejectReason.ProtocolViolation, $"{address} negotiated {ssl.SslProtocol}; only TLS 1.3 is accepted")
            {
                RemoteAddress = address,
            };
        }
        if (ssl.NegotiatedApplicationProtocol != s_alpn[0])
        {
            throw new PeerRejectedException(RejectReason.ProtocolViolation,
                $"{address} did not negotiate ALPN {TransportProtocol.Alpn} (got '{ssl.NegotiatedApplicationProtocol}')")
            {
                RemoteAddress = address,
            };
        }
    }

    /// <summary>The trust rules after the binding, in order: expected id, deny-list, allowlist, TOFU pin. Null when the peer passes.</summary>
    private static (RejectReason Reason, string Message)? CheckPolicy(string nodeId, string address, string? expectedNodeId, TransportOptions options,
        KnownPeers? pins, string? pinKey)
    {
        if (expectedNodeId is not null && !string.Equals(expectedNodeId, nodeId, StringComparison.Ordinal))
        {
            return (RejectReason.IdentityMismatch, $"expected node {expectedNodeId} at {address}, but the peer there is {nodeId}");
        }
        if (options.IsBlocked?.Invoke(nodeId) == true)
        {
            return (RejectReason.Blocked, $"node {nodeId} is on this node's deny-list");
        }
        if (options.Pinning == PinningMode.Allowlist && !options.Allowlist.Contains(nodeId, StringComparer.Ordinal))
        {
            return (RejectReason.NotAllowlisted, $"node {nodeId} is not in this node's allowlist (pinning mode allowlist)");
        }
        if (options.Pinning == PinningMode.Tofu && pins is not null && pinKey is not null
            && pins.Lookup(pinKey) is { } pinned && !string.Equals(pinned, nodeId, StringComparison.Ordinal))
        {
            return (RejectReason.PinMismatch,
                $"{pinKey} was pinned to node {pinned} on first contact, but now presents {nodeId}; if that peer really changed its key, "
                + $"delete its line from {pins.Description}");
        }
        return null;
    }
}
