using Microsoft.Extensions.Logging;

namespace Duckton.Node;

/// <summary>Node log messages; event ids 1300–1399 belong to the node (grid and trust).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Error, Message = "Deny-list check for {NodeId} failed; treating the host as blocked (fail closed)")]
    public static partial void DenyListCheckFailed(this ILogger logger, string nodeId, Exception exception);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "Attestation check of the bid from {NodeId} for job {JobId} failed; refusing the bid (fail closed)")]
    public static partial void BidCheckFailed(this ILogger logger, string nodeId, string jobId, Exception exception);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Error, Message = "Trust assessment of {NodeId} failed; the host is not selected (fail closed)")]
    public static partial void AssessmentFailed(this ILogger logger, string nodeId, Exception exception);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Error, Message = "Issuing receipts for job {JobId} failed ({Verdicts} verdicts lost)")]
    public static partial void ReceiptsFailed(this ILogger logger, string jobId, int verdicts, Exception exception);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Warning, Message = "Judging the shadow replicas of job {JobId} failed")]
    public static partial void ShadowJudgingFailed(this ILogger logger, string jobId, Exception exception);

    [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "The job observer failed for job {JobId}")]
    public static partial void JobObserverFailed(this ILogger logger, string jobId, Exception exception);

    [LoggerMessage(EventId = 1306, Level = LogLevel.Warning, Message = "Loading persisted trust state (vetting, flags, measurements) failed; retried on next use")]
    public static partial void TrustStateLoadFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1307, Level = LogLevel.Debug, Message = "Gossip round failed; the next one retries")]
    public static partial void GossipRoundFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1350, Level = LogLevel.Information, Message = "Peer {NodeId} is dead: silent beyond its rhythm (phi {Phi:0.#}) and unreachable directly and through other peers")]
    public static partial void PeerConvicted(this ILogger logger, string nodeId, double phi);

    [LoggerMessage(EventId = 1341, Level = LogLevel.Information, Message = "Closed the idle connection of {NodeId}: no frame and no job for {Milliseconds} ms (network.idle_timeout_ms)")]
    public static partial void IdleConnectionClosed(this ILogger logger, string nodeId, double milliseconds);

    [LoggerMessage(EventId = 1342, Level = LogLevel.Warning, Message = "Requester {NodeId} left {Strikes} committed results unfetched: refused for {Seconds} s and receipted (ResourceExceeded)")]
    public static partial void RequesterRateLimited(this ILogger logger, string nodeId, int strikes, double seconds);

    [LoggerMessage(EventId = 1360, Level = LogLevel.Warning, Message = "Reading the stake of {NodeId} failed; its last reading (or none: stake unknown, counted 0) stays in use")]
    public static partial void StakeReadFailed(this ILogger logger, string nodeId, Exception exception);
}
