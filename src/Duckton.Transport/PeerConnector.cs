namespace Duckton.Transport;

/// <summary>Opens outbound connections to peers.</summary>
public static class PeerConnector
{
    /// <summary>
    /// Connects to <paramref name="address"/> (<c>host:port</c>), runs TLS 1.3 with mutual authentication and the version handshake,
    /// and returns the connection. Connect, TLS and handshake together are bounded by <see cref="TransportOptions.HandshakeTimeout"/>.
    /// </summary>
    /// <param name="identity">This node.</param>
    /// <param name="address">The peer, <c>host:port</c>.</param>
    /// <param name="expectedNodeId">When set, the peer's certificate-bound id must equal it.</param>
    /// <param name="options">Trust and limits.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <exception cref="PeerRejectedException">Either side refused (binding, identity, pin, allowlist, deny-list, version, busy).</exception>
    /// <exception cref="TimeoutException">The handshake did not finish in time.</exception>
    /// <exception cref="IOException">The peer is unreachable or the TLS handshake failed for another reason.</exception>
    public static Task<PeerConnection> ConnectAsync(NodeIdentity identity, string address, string? expectedNodeId, TransportOptions options,
        CancellationToken cancellationToken = default) =>
        PeerConnection.ConnectCoreAsync(identity, address, expectedNodeId, options, cancellationToken);
}
