using Duckton.Core.Configuration;

namespace Duckton.Transport;

/// <summary>Frame types of the wire protocol.</summary>
public enum MessageType : byte
{
    Hello = 1,
    HelloAck = 2,
    Reject = 3,
    Offer = 10,
    Bid = 11,
    Decline = 12,
    Dispatch = 13,
    Commit = 14,
    Fetch = 15,
    Batch = 16,
    End = 17,
    Cancel = 18,
    Error = 19,
    Advert = 30,
    Receipt = 31,
    Ping = 40,
    Pong = 41,
}

/// <summary>One frame: <c>[u32 LE len][u8 ver=1][u8 type][payload]</c>.</summary>
public readonly record struct Frame(MessageType Type, ReadOnlyMemory<byte> Payload);

/// <summary>Why a handshake was refused.</summary>
public enum RejectReason
{
    IncompatibleVersion,
    IdentityMismatch,
    CertificateNotBound,
    NotAllowlisted,
    PinMismatch,
    ProtocolViolation,
    Busy,
    Blocked,
}

public sealed class PeerRejectedException(RejectReason reason, string? message = null)
    : Exception(message ?? $"peer rejected: {reason}")
{
    public RejectReason Reason { get; } = reason;
}

/// <summary>What each side announces in the handshake.</summary>
public sealed record PeerHello(string ProtocolName, string ProtocolVersion, string MinSupportedVersion, string NodeId, string SoftwareVersion, string? ListenAddress);

public sealed record TransportOptions
{
    public PinningMode Pinning { get; init; } = PinningMode.Tofu;
    public IReadOnlyCollection<string> Allowlist { get; init; } = [];
    public string? KnownPeersPath { get; init; }
    public int MaxFrameBytes { get; init; } = 16 << 20;
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public string SoftwareVersion { get; init; } = "duckton";
    public string ProtocolVersion { get; init; } = "1.0.0";
    public string? AdvertisedAddress { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
