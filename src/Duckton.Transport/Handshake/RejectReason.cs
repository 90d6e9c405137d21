namespace Duckton.Transport;

/// <summary>Why a connection was refused. The numeric value is the u16 reason code carried by a Reject frame.</summary>
public enum RejectReason
{
    /// <summary>The peers share no protocol version (different major, or below the other's minimum).</summary>
    IncompatibleVersion = 1,

    /// <summary>The peer is not the node expected: its certificate-derived id differs from the expected id or from its Hello.</summary>
    IdentityMismatch = 2,

    /// <summary>The peer's certificate carries no valid Ed25519 binding (missing, malformed, signed by another key, or for another certificate key).</summary>
    CertificateNotBound = 3,

    /// <summary>Allowlist pinning is on and the peer's id is not listed.</summary>
    NotAllowlisted = 4,

    /// <summary>TOFU: this address was pinned to another node id.</summary>
    PinMismatch = 5,

    /// <summary>The peer broke the handshake protocol (wrong first frame, malformed payload, wrong ALPN or TLS version).</summary>
    ProtocolViolation = 6,

    /// <summary>The peer is at its connection limit; try later or elsewhere.</summary>
    Busy = 7,

    /// <summary>The peer is on the local deny-list (or we are on theirs).</summary>
    Blocked = 8,
}
