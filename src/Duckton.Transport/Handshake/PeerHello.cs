namespace Duckton.Transport;

/// <summary>What a peer said about itself in the handshake (the client's Hello, or the server's hello inside HelloAck).</summary>
/// <param name="ProtocolName">Always <c>duckdb-p2p</c>.</param>
/// <param name="ProtocolVersion">The protocol version the peer speaks, <c>major.minor.patch</c>.</param>
/// <param name="MinSupportedVersion">The oldest version the peer accepts from others.</param>
/// <param name="NodeId">The peer's node id; equal to the id derived from its TLS certificate binding (checked).</param>
/// <param name="SoftwareVersion">Free-form software version of the peer (informative).</param>
/// <param name="ListenAddress">Where the peer accepts connections (<c>host:port</c>), when it does.</param>
public sealed record PeerHello(
    string ProtocolName,
    string ProtocolVersion,
    string MinSupportedVersion,
    string NodeId,
    string SoftwareVersion,
    string? ListenAddress)
{
    /// <summary>Largest frame payload the peer accepts (its <see cref="TransportOptions.MaxFrameBytes"/>); senders stay below it.</summary>
    public int MaxFrameBytes { get; init; }
}
