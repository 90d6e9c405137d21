namespace Duckton.Transport;

/// <summary>
/// A connection was refused, by the remote peer (it sent a Reject frame, <see cref="ByRemote"/>) or by this node (the peer's
/// certificate, identity, pin, allowlist or version did not pass). <see cref="Reason"/> says which rule failed; the message says
/// it in words.
/// </summary>
internal sealed class PeerRejectedException : Exception
{
    public PeerRejectedException(RejectReason reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    public PeerRejectedException(RejectReason reason, string message, Exception? innerException)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>The rule that refused the connection.</summary>
    public RejectReason Reason { get; }

    /// <summary>True when the remote peer refused us; false when this node refused the peer.</summary>
    public bool ByRemote { get; init; }

    /// <summary>The remote address, when known.</summary>
    public string? RemoteAddress { get; init; }

    /// <summary>The node id derived from the remote certificate, when it got that far.</summary>
    public string? RemoteNodeId { get; init; }

    /// <summary>The reason text alone (without the address prefix of <see cref="Exception.Message"/>).</summary>
    public string Detail { get; init; } = "";
}
