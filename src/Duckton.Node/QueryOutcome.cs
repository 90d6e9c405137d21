using Duckton.Core.Data;

namespace Duckton.Node;

/// <summary>What <c>p2p_query_meta</c> reports about one query.</summary>
public sealed record QueryMeta
{
    public required string JobId { get; init; }
    public bool ExecutedLocally { get; init; }
    public bool Verified { get; init; }
    public int Agreement { get; init; }
    public int Quorum { get; init; }
    public string? Winner { get; init; }
    public int Participants { get; init; }
    public int Receipts { get; init; }

    /// <summary>Hosts below min_trust (vetted by canaries) whose commits took part.</summary>
    public int Probationary { get; init; }

    /// <summary>Newcomers that ran the query as shadow replicas (checked against the answer, not counted in the quorum).</summary>
    public int ShadowReplicas { get; init; }
    public string? AgreedHash { get; init; }

    /// <summary>Remote path: the agreed input fingerprint (hex), empty when the query reads no shared files.</summary>
    public string? InputFingerprint { get; init; }
    public long ResultRows { get; init; }
    public double LatencyMs { get; init; }
    public long ObservedResultBytes { get; init; }

    /// <summary>How the rows reached this node: <c>with_commit</c> (inline rows), <c>fetched</c>, or <c>local</c>; null on failure.</summary>
    public string? RowsDelivery { get; init; }
    public string? Error { get; init; }

    /// <summary>Remote path: the agreeing signed commits bound to quorum and host set by this requester's signature (<c>dcc2:</c>…), checkable offline with <c>CommitCertificate.Verify</c>.</summary>
    public string? Certificate { get; init; }

    /// <summary>Where the planner ran the query and why (<c>local: no peers</c>, <c>remote: 3 usable host(s) for quorum 2</c>, ...).</summary>
    public string? Planner { get; init; }

    /// <summary>Why the result is not verified although it came from the grid (non-deterministic SQL, verify => 'fast').</summary>
    public string? Unverifiable { get; init; }

    /// <summary>Hosts whose answers were rejected (bad signature, equivocation), with the reason.</summary>
    public string? Rejected { get; init; }

    /// <summary>A paid job's payment (null for a free job).</summary>
    public Economics.PaymentReport? Payment { get; init; }

    /// <summary>The <c>(group, key, value)</c> rows of <c>p2p_query_meta</c>, in their documented order.</summary>
    public IEnumerable<(string Group, string Key, string? Value)> ToRows()
    {
        const string g = "query";
        yield return (g, "job_id", JobId);
        yield return (g, "executed_locally", Bool(ExecutedLocally));
        yield return (g, "verified", Bool(Verified));
        yield return (g, "agreement", Agreement.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return (g, "quorum", Quorum.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return (g, "winner", Winner ?? "<none>");
        yield return (g, "participants", Participants.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return (g, "receipts", Receipts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return (g, "agreed_hash", AgreedHash ?? "<none>");
        yield return (g, "input_fingerprint", InputFingerprint is { Length: > 0 } f ? f : "<none>");
        yield return (g, "result_rows", ResultRows.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return (g, "latency_ms", LatencyMs.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture));
        yield return (g, "observed_result_bytes", ObservedResultBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return (g, "rows_delivery", RowsDelivery ?? "<none>");
        yield return (g, "probationary", Probationary.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return (g, "shadow_replicas", ShadowReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Planner is not null)
        {
            yield return (g, "planner", Planner);
        }
        if (Unverifiable is not null)
        {
            yield return (g, "unverifiable", Unverifiable);
        }
        if (Rejected is not null)
        {
            yield return (g, "rejected", Rejected);
        }
        if (Certificate is not null)
        {
            yield return (g, "certificate", Certificate);
        }
        if (Error is not null)
        {
            yield return (g, "error", Error);
        }
        if (Payment is { } p)
        {
            foreach (var row in p.ToRows())
            {
                yield return row;
            }
        }
    }

    private static string Bool(bool b) => b ? "true" : "false";
}

/// <summary>A query's verified result and its metadata.</summary>
public sealed record QueryOutcome(ResultSet Result, QueryMeta Meta);

/// <summary>A query that failed; the message is DuckDB's (local path) or the grid's.</summary>
public sealed class QueryFailedException : Exception
{
    public QueryFailedException(string message, QueryMeta meta, Exception? inner = null) : base(message, inner) => Meta = meta;
    public QueryMeta Meta { get; }
}
