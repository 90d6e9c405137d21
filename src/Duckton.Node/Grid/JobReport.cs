namespace Duckton.Node.Grid;

/// <summary>How a host finished one dispatched job.</summary>
public enum JobOutcome
{
    /// <summary>Committed and streamed every row to the requester.</summary>
    Served,
    /// <summary>Committed but not (fully) fetched: the requester cancelled, another host won the race, or the hold expired.</summary>
    Cancelled,
    /// <summary>The host answered with an error (the query failed, input drift, the host's timeout).</summary>
    Failed,
    /// <summary>The requester's connection closed before the host could say how the job ended.</summary>
    Abandoned,
}

/// <summary>One dispatched job as the host saw it, for its job log (<see cref="IJobObserver"/>).</summary>
/// <param name="Rows">Rows streamed (Served) or 0.</param>
/// <param name="BytesSent">Result bytes (batch frames) sent to the requester.</param>
/// <param name="Detail">The error sent for a Failed job ("Code: message"), else null.</param>
public sealed record JobReport(string JobId, string RequesterId, JobOutcome Outcome, ulong Rows, long BytesSent, TimeSpan Duration, string? Detail);
