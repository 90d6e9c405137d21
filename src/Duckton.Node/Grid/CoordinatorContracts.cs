using Duckton.Core.Data;
using Duckton.Core.Protocol;
using CoreConfig = Duckton.Core.Configuration;

namespace Duckton.Node.Grid;

/// <summary>What the coordinator knows when it ranks candidates.</summary>
public sealed record CandidateContext(string JobId, string Sql, CoreConfig.NodeConfig Config, QueryOverrides Overrides);

/// <summary>Orders eligible hosts, best first (the trust engine plugs in here). It may also drop hosts.</summary>
public interface ICandidateRanker
{
    IReadOnlyList<PeerEntry> Rank(IReadOnlyList<PeerEntry> candidates, CandidateContext context);

    /// <summary>
    /// Hosts to run the query as shadow replicas: their commits are compared with the agreed result and earn them
    /// receipts, but never count toward the quorum and never serve rows. <paramref name="candidates"/> excludes the
    /// hosts already chosen for the quorum. None by default.
    /// </summary>
    IReadOnlyList<PeerEntry> Shadows(IReadOnlyList<PeerEntry> candidates, CandidateContext context) => [];

    /// <summary>Why fewer than <paramref name="needed"/> of <paramref name="candidates"/> were ranked (a trust floor), or null.</summary>
    string? Shortfall(IReadOnlyList<PeerEntry> candidates, CandidateContext context, int needed) => null;
}

/// <summary>A remote query's verified result and how it was reached.</summary>
public sealed record RemoteOutcome(ResultSet Result, bool Verified, string? UnverifiableReason, int Agreement, int Quorum, string Winner, int Participants,
    string AgreedHash, string? Certificate, long ResultBytes, int Attempts, IReadOnlyList<string> Rejected)
{
    /// <summary>The query hash every agreeing commit signed (computed once per query, for the dispatch).</summary>
    public required string QueryHash { get; init; }

    /// <summary>Time from the quorum to the verified rows (fetch, decode and re-hash), for benchmarks.</summary>
    public double FetchMilliseconds { get; init; }

    /// <summary>Receipts the trust engine issued for this job (every attempt).</summary>
    public int Receipts { get; init; }

    /// <summary>The winner sent its rows with its commit (inline rows) instead of on a Fetch.</summary>
    public bool RowsWithCommit { get; init; }

    /// <summary>Hosts whose commit counted in the accepted attempt.</summary>
    public IReadOnlyList<string> Committed { get; init; } = [];

    /// <summary>Shadow replicas dispatched alongside the accepted attempt (judged after the query returns).</summary>
    public int Shadows { get; init; }

    /// <summary>The agreed input fingerprint (hex; empty when the query reads no shared files): pass it as input_pin to pin it.</summary>
    public string InputFingerprint { get; init; } = "";

    /// <summary>The job was paid: <see cref="WinnerClaimNanoton"/> is the winner's signed bill (checked against its quote).</summary>
    public bool Paid { get; init; }

    /// <summary>What the winner's signed commit claims for the job (0 for a free job).</summary>
    public ulong WinnerClaimNanoton { get; init; }

    /// <summary>The winner's Ed25519 key (its wallet is derived from it).</summary>
    public byte[] WinnerPublicKey { get; init; } = [];

    /// <summary>The agreeing hosts other than the winner (each earns a commission on a paid job), with their keys.</summary>
    public IReadOnlyList<(string NodeId, byte[] PublicKey)> Verifiers { get; init; } = [];

    /// <summary>The escrow funded after the quorum and before the fetch (paid jobs on the on-chain rail); null: none was opened.</summary>
    public Economics.PendingEscrow? Escrow { get; init; }
}

/// <summary>The requester's verdict on one host's part in one attempt (what a receipt is issued from).</summary>
public sealed record HostVerdict(string NodeId, Duckton.Core.Trust.Verdict Verdict, string ResultHash, ulong Rows, double LatencyMs, long Bytes, string? Detail)
{
    /// <summary>The host ran as a shadow replica: checked against the quorum's answer, not counted in it.</summary>
    public bool Shadow { get; init; }

    /// <summary>The hosts whose agreeing commits this verdict was judged against (empty: judged without a quorum).</summary>
    public IReadOnlyList<string> Quorum { get; init; } = [];

    /// <summary>The host's own signed commit when it contradicts the quorum's (Incorrect): the proof if the quorum is beyond doubt.</summary>
    public CommitMessage? Contradicting { get; init; }
}

/// <summary>A single host's answer to a commit-only probe (canaries).</summary>
public sealed record ProbeResult(CommitMessage? Commit, Duckton.Core.Trust.Verdict? Failure, string? Detail, double LatencyMs)
{
    /// <summary>The host declined for lack of room (no verdict): worth asking again after a backoff.</summary>
    public bool Busy { get; init; }
}

/// <summary>A remote query that failed; <see cref="Terminal"/> when retrying cannot help.</summary>
public sealed class GridQueryException(string message, bool terminal = true, Exception? inner = null) : Exception(message, inner)
{
    public bool Terminal { get; } = terminal;
}
