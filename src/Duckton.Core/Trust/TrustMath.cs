using Duckton.Core.Configuration;

namespace Duckton.Core.Trust;

/// <summary>One outcome a requester observed for a host: when, whether correct, how much it counts.</summary>
public readonly record struct Observation(DateTimeOffset Timestamp, bool Correct, double Weight = 1.0);

/// <summary>Parameters of confidence-aware reputation (docs/TRUST.md).</summary>
public sealed record ReputationParameters
{
    /// <summary>Age at which an observation counts half. Default <c>trust.reputation_half_life_secs</c> (7 days).</summary>
    public TimeSpan HalfLife { get; init; } = NodeConfig.Defaults.Trust.ReputationHalfLife;
    /// <summary>Beta prior successes (α₀). Default <c>economics.reputation.prior_alpha</c> (1).</summary>
    public double PriorAlpha { get; init; } = NodeConfig.Defaults.Economics.Reputation.PriorAlpha;
    /// <summary>Beta prior failures (β₀). Default <c>economics.reputation.prior_beta</c> (2).</summary>
    public double PriorBeta { get; init; } = NodeConfig.Defaults.Economics.Reputation.PriorBeta;
    /// <summary>z of the Wilson lower bound. Default <c>economics.reputation.confidence_z</c> (1.96, 95%).</summary>
    public double Z { get; init; } = NodeConfig.Defaults.Economics.Reputation.ConfidenceZ;

    public static ReputationParameters Default { get; } = new();
}

/// <summary>Reputation formulas: recency-weighted correctness shrunk by a Wilson lower bound.</summary>
public static class Reputation
{
    /// <summary>
    /// Σ wᵢ·correctᵢ / Σ wᵢ with wᵢ = weightᵢ · 0.5^(ageᵢ / halfLife); null without observations.
    /// Observations from the future (clock skew) count as age 0.
    /// </summary>
    public static double? RecencyWeightedCorrectness(IEnumerable<Observation> observations, DateTimeOffset now, TimeSpan halfLife)
    {
        double sum = 0, correct = 0;
        var any = false;
        foreach (var o in observations)
        {
            any = true;
            var age = Math.Max(0, (now - o.Timestamp).TotalSeconds);
            var w = o.Weight * (halfLife > TimeSpan.Zero ? Math.Pow(0.5, age / halfLife.TotalSeconds) : 1.0);
            sum += w;
            if (o.Correct)
            {
                correct += w;
            }
        }
        return !any || sum <= 0 ? null : correct / sum;
    }

    /// <summary>
    /// Wilson lower bound of <paramref name="ratio"/> over <paramref name="n"/> observations with a Beta(α₀, β₀) prior:
    /// p = (ratio·n + α₀) / (n + α₀ + β₀), t = n + α₀ + β₀,
    /// lower = (p + z²/2t − z·√(p(1−p)/t + z²/4t²)) / (1 + z²/t), clamped to [0, 1].
    /// </summary>
    public static double WilsonLowerBound(double ratio, double n, ReputationParameters p)
    {
        var t = n + p.PriorAlpha + p.PriorBeta;
        if (t <= 0)
        {
            return 0;
        }
        var phat = ((ratio * n) + p.PriorAlpha) / t;
        if (p.Z <= 0)
        {
            return Math.Clamp(phat, 0, 1);
        }
        var z2 = p.Z * p.Z;
        var lower = (phat + (z2 / (2 * t)) - (p.Z * Math.Sqrt((phat * (1 - phat) / t) + (z2 / (4 * t * t))))) / (1 + (z2 / t));
        return Math.Clamp(lower, 0, 1);
    }

    /// <summary>R: the Wilson-shrunk recency-weighted correctness, or null without history.</summary>
    public static double? Compute(IReadOnlyCollection<Observation> observations, DateTimeOffset now, ReputationParameters p)
    {
        var ratio = RecencyWeightedCorrectness(observations, now, p.HalfLife);
        return ratio is null ? null : WilsonLowerBound(ratio.Value, observations.Count, p);
    }
}

/// <summary>Stake's contribution: diminishing and capped, <c>ln(1 + s/base) / ln(1 + cap/base)</c> clamped to [0, 1].</summary>
internal static class StakeFactor
{
    /// <param name="stake">Staked amount (whole TON).</param>
    /// <param name="minStake">economics.stake.min_stake; the base unit (1 TON when 0).</param>
    /// <param name="stakeCap">economics.stake.stake_cap; stake beyond it adds nothing.</param>
    public static double Compute(double stake, double minStake, double stakeCap)
    {
        if (stake <= 0)
        {
            return 0;
        }
        var b = minStake > 0 ? minStake : 1.0;
        var cap = Math.Max(stakeCap, b);
        return Math.Clamp(Math.Log(1 + (stake / b)) / Math.Log(1 + (cap / b)), 0, 1);
    }

    /// <summary>Stake counts only for reliable hosts: <c>clamp((r − floor) / (1 − floor), 0, 1)</c>.</summary>
    public static double ReliabilityGate(double reliability, double floor) =>
        floor >= 1 ? (reliability >= 1 ? 1 : 0) : Math.Clamp((reliability - floor) / (1 - floor), 0, 1);
}

/// <summary>Weights of effective trust (docs/TRUST.md): α reputation, β identity age, γ vouchers, δ stake.</summary>
public sealed record TrustWeights(double Alpha = 0.7, double Beta = 0.1, double Gamma = 0.1, double Delta = 0.1)
{
    public static TrustWeights Default { get; } = new();
}

/// <summary>Everything effective trust is computed from, for one host.</summary>
internal sealed record TrustInputs
{
    /// <summary>Reputation R, or null for a host without history (then bootstrap trust applies).</summary>
    public double? Reputation { get; init; }
    /// <summary>Observations behind R; identity age = min(observations / ageSaturation, 1).</summary>
    public int Observations { get; init; }
    /// <summary>Accumulated voucher trust (capped at 1).</summary>
    public double Voucher { get; init; }
    /// <summary>Stake factor in [0, 1] (see <see cref="StakeFactor"/>).</summary>
    public double Stake { get; init; }
    /// <summary>Accumulated penalties.</summary>
    public double Penalties { get; init; }
    /// <summary>The host's verified attestation tier.</summary>
    public AttestationLevel Attestation { get; init; }
}

/// <summary>Policy side of effective trust: weights, floors, bootstrap and exploration.</summary>
public sealed record TrustPolicy
{
    public TrustWeights Weights { get; init; } = TrustWeights.Default;
    /// <summary>R of a host without history. Default <c>trust.bootstrap_trust</c> (0.1).</summary>
    public double BootstrapTrust { get; init; } = NodeConfig.Defaults.Trust.BootstrapTrust;
    /// <summary>Observations at which identity age saturates. Default 20.</summary>
    public int AgeSaturation { get; init; } = 20;
    /// <summary>Required attestation tier (a hard gate).</summary>
    public AttestationLevel MinAttestation { get; init; } = AttestationLevel.L0;
    /// <summary>Exploration bonus for under-observed hosts: rate · (1 − min(obs / saturation, 1)). Default 0.</summary>
    public double ExplorationRate { get; init; }
    public int ExplorationSaturation { get; init; } = NodeConfig.Defaults.Economics.Ranking.ExplorationSaturation;
    /// <summary>Voucher trust one fully trusted, full-weight vouch adds (<c>sybil.vouch_weight</c>). Default 0.05.</summary>
    public double VouchWeight { get; init; } = NodeConfig.Defaults.Sybil.VouchWeight;

    public static TrustPolicy Default { get; } = new();
}

/// <summary>
/// The voucher term: <c>min(1, Σ vouch_weight · weightᵥ · trustᵥ)</c> over the vouches for a host, where trustᵥ is the
/// voucher's own effective trust in this node's view (0 for an identity it has never observed). Vouches from
/// zero-trust (e.g. sybil) identities therefore add nothing, and no number of them exceeds 1.
/// </summary>
public static class VoucherTrust
{
    public static double Compute(IEnumerable<(double Weight, double VoucherTrust)> vouches, double vouchWeight)
    {
        var sum = 0.0;
        foreach (var (weight, trust) in vouches)
        {
            if (double.IsFinite(weight) && double.IsFinite(trust))
            {
                sum += Math.Clamp(vouchWeight, 0, 1) * Math.Clamp(weight, 0, 1) * Math.Clamp(trust, 0, 1);
            }
        }
        return Math.Min(1, sum);
    }
}

/// <summary>Effective trust and each term that produced it (shown by p2p_peers and the dashboard).</summary>
public sealed record TrustBreakdown(double Reputation, double Age, double Voucher, double Stake, double Penalties, double Soft, double Exploration, bool Gate, double Effective);

/// <summary>
/// <c>effective = gate(level ≥ min_level) · clamp(α·R + β·age + γ·voucher + δ·stake − penalties, 0, 1) + exploration</c>
/// (docs/TRUST.md), clamped to [0, 1].
/// </summary>
internal static class EffectiveTrust
{
    public static TrustBreakdown Compute(TrustInputs inputs, TrustPolicy policy)
    {
        var w = policy.Weights;
        var r = inputs.Reputation ?? policy.BootstrapTrust;
        var age = policy.AgeSaturation <= 0 ? 1 : Math.Min((double)inputs.Observations / policy.AgeSaturation, 1);
        var voucher = Math.Clamp(inputs.Voucher, 0, 1);
        var stake = Math.Clamp(inputs.Stake, 0, 1);
        var soft = Math.Clamp((w.Alpha * r) + (w.Beta * age) + (w.Gamma * voucher) + (w.Delta * stake) - inputs.Penalties, 0, 1);
        var exploration = policy.ExplorationSaturation <= 0 ? 0
            : policy.ExplorationRate * (1 - Math.Min((double)inputs.Observations / policy.ExplorationSaturation, 1));
        var gate = inputs.Attestation >= policy.MinAttestation;
        var effective = gate ? Math.Clamp(soft + exploration, 0, 1) : 0;
        return new TrustBreakdown(r, age, voucher, stake, inputs.Penalties, soft, exploration, gate, effective);
    }
}

/// <summary>Weights of the composite selection score (docs/TRUST.md).</summary>
public sealed record SelectionWeights(double Quality = 0.60, double Stake = 0.30, double Price = 0.25, double Latency = 0.15, double Throughput = 0.15, double Capability = 0.10, double StakeReliabilityFloor = 0.50)
{
    public static SelectionWeights Default { get; } = new();
}

/// <summary>What the requester itself measured of a host (never self-reported), and the host's bid.</summary>
internal sealed record SelectionInputs
{
    public double EffectiveTrust { get; init; }
    /// <summary>Stake-free reliability (reputation) that gates stake.</summary>
    public double Reliability { get; init; }
    public double StakeFactor { get; init; }
    /// <summary>Price position in the eligible set: 1 cheapest, 0 dearest (1 when all equal).</summary>
    public double PriceScore { get; init; } = 1;
    /// <summary>Requester-measured latency score in [0, 1]; 0.5 without history.</summary>
    public double LatencyScore { get; init; } = 0.5;
    /// <summary>Requester-measured throughput score in [0, 1]; 0.5 without history.</summary>
    public double ThroughputScore { get; init; } = 0.5;
    /// <summary>Proven capability confidence in [0, 1].</summary>
    public double Capability { get; init; }
}

/// <summary>The weighted blend that ranks eligible hosts, normalised by the weight sum.</summary>
internal static class SelectionScore
{
    public static double Compute(SelectionInputs s, SelectionWeights w)
    {
        var gate = StakeFactor.ReliabilityGate(s.Reliability, w.StakeReliabilityFloor);
        var sum = w.Quality + w.Stake + w.Price + w.Latency + w.Throughput + w.Capability;
        if (sum <= 0)
        {
            return Math.Clamp(s.EffectiveTrust, 0, 1);
        }
        var blend = (w.Quality * s.EffectiveTrust) + (w.Stake * s.StakeFactor * gate) + (w.Price * s.PriceScore)
            + (w.Latency * s.LatencyScore) + (w.Throughput * s.ThroughputScore) + (w.Capability * s.Capability);
        return Math.Clamp(blend / sum, 0, 1);
    }

    /// <summary>Latency score from the requester's EWMA: <c>clamp(1 − lat / (ref · max(1, bytes / bytesRef)), 0, 1)</c>.</summary>
    public static double LatencyScore(double latencyMs, double bytes, double latencyRefMs = 5000, double bytesRef = 1L << 30) =>
        latencyRefMs <= 0 ? 1 : Math.Clamp(1 - (latencyMs / (latencyRefMs * Math.Max(1, bytes / bytesRef))), 0, 1);

    /// <summary>Throughput score: <c>clamp(ln(1 + bytes / max(lat, 1)) / ln(1 + refRate), 0, 1)</c>, refRate in bytes/ms.</summary>
    public static double ThroughputScore(double latencyMs, double bytes, double refBytesPerMs = (1L << 30) / 5000.0) =>
        Math.Clamp(Math.Log(1 + (bytes / Math.Max(latencyMs, 1))) / Math.Log(1 + refBytesPerMs), 0, 1);
}
