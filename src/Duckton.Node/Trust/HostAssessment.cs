using Duckton.Core.Configuration;
using Duckton.Core.Trust;

namespace Duckton.Node.Trust;

/// <summary>Where a candidate host stands with this requester for one query.</summary>
public enum Standing
{
    /// <summary>Effective trust ≥ min_trust: selectable and counts toward the quorum.</summary>
    Trusted,
    /// <summary>Below min_trust but proved a known answer (canary) recently and has no penalty: selectable, probationary.</summary>
    Vetted,
    /// <summary>Below min_trust and not vetted yet: gets a canary first, never selected before it passes.</summary>
    Unvetted,
    /// <summary>Failed a canary or carries a penalty (a wrong answer): never selected while below min_trust.</summary>
    Failed,
    /// <summary>Verified attestation tier below the floor.</summary>
    BelowAttestation,
    /// <summary>Below min_trust on an Internal or Sensitive query (probation only admits hosts to Public work).</summary>
    BelowTrust,
    /// <summary>On this node's deny-list.</summary>
    Blocked,
    /// <summary>Could not be assessed (the trust store or configuration failed): never selected, the error is logged.</summary>
    Unassessable,
    /// <summary>Stake below what the query requires (<c>require_staked_hosts</c>, <c>sybil.min_stake</c>); unknown stake counts as none.</summary>
    BelowStake,
}

/// <summary>Computes a canary's expected canonical result hash (the node runs it in its local locked-down engine).</summary>
public interface IKnownAnswers
{
    string ExpectedHash(string sql);
}

/// <summary>One candidate's standing, effective trust (with its terms) and selection score.</summary>
public sealed record HostAssessment(string NodeId, Standing Standing, TrustBreakdown Trust, int Observations, AttestationLevel Attestation, string? AttestationNote, double Selection, bool Flagged)
{
    /// <summary>The host's stake in whole TON as read from its vault (0 with economics off; null = unknown).</summary>
    public double? StakeTon { get; init; }
}
