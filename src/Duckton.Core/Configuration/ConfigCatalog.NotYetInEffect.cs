using System.Collections.Frozen;

namespace Duckton.Core.Configuration;

public static partial class ConfigCatalog
{
    /// <summary>
    /// Keys of features still being built: accepted and validated, but nothing reads them yet. The documentation and
    /// <c>p2p_config()</c> mark them; a test (KeyCoverageTests) fails when a key outside this set is read by no code, and
    /// when a key in it has become read, so the set only shrinks.
    /// </summary>
    public static FrozenSet<string> NotYetInEffect { get; } = new[]
    {
        // Paid compute on TON.
        "economics.accounting_unit",
        "economics.chain",
        "economics.custody",
        "economics.fees.bonus_aggressiveness",
        "economics.fees.lambda_quality",
        "economics.fees.lambda_speed",
        "economics.pricing.cap_multiplier",
        "economics.pricing.metering_tolerance",
        "economics.pricing.rate_per_gb",
        "economics.quality.bytes_ref",
        "economics.quality.latency_ref_ms",
        "economics.quality.throughput_ref_bytes_per_ms",
        "economics.quality.w_completion",
        "economics.quality.w_latency",
        "economics.quality.w_success",
        "economics.quality.w_throughput",
        "economics.ranking.capability_weight",
        "economics.records.anchor_quorum_pct",
        "economics.selection.checksum_allow_degraded",
        "economics.selection.checksum_min",
        "economics.selection.n_default",
        "economics.selection.n_max",
        "economics.selection.n_public",
        "economics.selection.requester_overridable",
        "economics.stake.min_stake_internal",
        "economics.stake.min_stake_sensitive",
        "economics.stake.receipt_jetton",
        "economics.stake.receipt_transfer_locked",
        "economics.testnet.explorer",
        "economics.testnet.contracts.job_escrow",
        "economics.mainnet.explorer",
        "economics.mainnet.contracts.job_escrow",
        "economics.local.explorer",
        "economics.local.contracts.job_escrow",
    }.ToFrozenSet(StringComparer.Ordinal);
}
