using Microsoft.Extensions.Logging;

namespace Duckton.Transport;

/// <summary>Transport log messages; event ids 1100–1199 belong to the transport.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Listening for peers on {Endpoint} as {NodeId}")]
    public static partial void Listening(this ILogger logger, string endpoint, string nodeId);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Inbound handshake from {Remote} failed: {Problem}")]
    public static partial void InboundHandshakeFailed(this ILogger logger, string remote, string problem, Exception exception);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Refused inbound peer {Remote} ({NodeId}): {Reason}: {Problem}")]
    public static partial void InboundRejected(this ILogger logger, string remote, string? nodeId, RejectReason reason, string problem);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Error, Message = "Connection handler for {NodeId} at {Remote} failed")]
    public static partial void HandlerFailed(this ILogger logger, string nodeId, string remote, Exception exception);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Dropped connection to {NodeId} at {Remote}: {Problem}")]
    public static partial void FrameRejected(this ILogger logger, string nodeId, string remote, string problem);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Error, Message = "Accept loop on {Endpoint} failed")]
    public static partial void AcceptFailed(this ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "Connection handlers did not finish within {Seconds} s of shutdown")]
    public static partial void HandlersStuck(this ILogger logger, double seconds);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Debug, Message = "Closed a socket from {Address} before TLS: it already has {Limit} handshakes in flight")]
    public static partial void HandshakeRefused(this ILogger logger, string address, int limit);
}
