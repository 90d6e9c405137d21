using Duckton.Core.Configuration;
using Duckton.Core.Crypto;
using Duckton.Core.Trust;

namespace Duckton.Core.Tests.Trust;

public class TrustMathTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The seed's worked example (host marsh-otter). Inputs the formula needs for the stated terms:
    /// 144 correct observations of age 0 (recency-weighted ratio 1.0) → Wilson lower bound with priors α₀=1, β₀=2,
    /// z=1.96 gives R = 0.9518 (shown as 0.95); identity age min(144/20, 1) = 1.00; voucher 0.80;
    /// stake 3400 TON with economics.stake.min_stake = 0 (base 1 TON) and stake_cap = 100000 TON →
    /// ln(3401)/ln(100001) = 0.7063 (shown as 0.71); no penalty; an L2 host against an L1 floor passes the gate.
    /// </summary>
    [Fact]
    public void Worked_example_marsh_otter_gives_0_917()
    {
        var observations = Enumerable.Repeat(new Observation(Now, true), 144).ToList();
        var r = Reputation.Compute(observations, Now, ReputationParameters.Default)!.Value;
        Assert.Equal(0.95, Math.Round(r, 2));
        var stake = StakeFactor.Compute(3400, minStake: 0, stakeCap: 100_000);
        Assert.Equal(0.71, Math.Round(stake, 2));
        var result = EffectiveTrust.Compute(
            new TrustInputs { Reputation = r, Observations = 144, Voucher = 0.80, Stake = stake, Penalties = 0, Attestation = AttestationLevel.L2 },
            TrustPolicy.Default with { MinAttestation = AttestationLevel.L1 });
        Assert.Equal(1.00, result.Age);
        Assert.True(result.Gate);
        Assert.Equal(0.917, Math.Round(result.Effective, 3));
    }

    [Fact]
    public void A_host_without_history_gets_bootstrap_trust_0_07()
    {
        var t = EffectiveTrust.Compute(new TrustInputs(), TrustPolicy.Default);
        Assert.Equal(0.07, t.Effective, 10);
    }

    [Fact]
    public void A_penalised_cheater_drops_to_zero()
    {
        var obs = new List<Observation> { new(Now, false) };
        var r = Reputation.Compute(obs, Now, ReputationParameters.Default);
        var t = EffectiveTrust.Compute(new TrustInputs { Reputation = r, Observations = 1, Penalties = 0.5 }, TrustPolicy.Default);
        Assert.Equal(0, t.Effective);
    }

    [Fact]
    public void The_attestation_gate_is_hard()
    {
        var t = EffectiveTrust.Compute(new TrustInputs { Reputation = 1, Observations = 100, Voucher = 1, Stake = 1, Attestation = AttestationLevel.L0 },
            TrustPolicy.Default with { MinAttestation = AttestationLevel.L1 });
        Assert.False(t.Gate);
        Assert.Equal(0, t.Effective);
    }

    [Theory]
    [InlineData(1.0, 3, 0.3)]
    [InlineData(1.0, 144, 0.95)]
    [InlineData(0.0, 50, 0.0)]
    public void Wilson_lower_bound_shrinks_small_samples(double ratio, int n, double expected) =>
        Assert.Equal(expected, Math.Round(Reputation.WilsonLowerBound(ratio, n, ReputationParameters.Default), 2));

    [Fact]
    public void Old_observations_count_half_after_one_half_life()
    {
        var obs = new[] { new Observation(Now - TimeSpan.FromDays(7), false), new Observation(Now, true) };
        Assert.Equal(2.0 / 3.0, Reputation.RecencyWeightedCorrectness(obs, Now, TimeSpan.FromDays(7))!.Value, 10);
    }

    [Fact]
    public void Selection_score_gates_stake_by_reliability_and_uses_default_weights()
    {
        var reliable = SelectionScore.Compute(new SelectionInputs { EffectiveTrust = 0.9, Reliability = 0.9, StakeFactor = 1 }, SelectionWeights.Default);
        var unreliable = SelectionScore.Compute(new SelectionInputs { EffectiveTrust = 0.9, Reliability = 0.4, StakeFactor = 1 }, SelectionWeights.Default);
        Assert.True(reliable > unreliable);
        // (0.6·0.9 + 0.3·1·0.8 + 0.25·1 + 0.15·0.5 + 0.15·0.5 + 0.1·0) / 1.55
        Assert.Equal((0.54 + 0.24 + 0.25 + 0.075 + 0.075) / 1.55, reliable, 10);
    }

    [Fact]
    public void Receipts_verify_and_reject_forgery_tampering_and_unbound_keys()
    {
        using var requester = Ed25519Key.Generate();
        using var other = Ed25519Key.Generate();
        var worker = NodeIds.FromPublicKey(Ed25519Key.Generate().PublicKey);
        var receipt = new Receipt
        {
            JobId = "job-1",
            WorkerId = worker,
            RequesterId = NodeIds.FromPublicKey(requester.PublicKey),
            QueryHash = "q",
            ResultHash = "r",
            Verdict = Verdict.Incorrect,
            Timestamp = 1_700_000_000,
        }.SignWith(requester);
        Assert.Null(receipt.Problem());
        Assert.Equal("bad signature", (receipt with { Verdict = Verdict.Correct }).Problem());
        Assert.Equal("bad signature", (receipt with { LatencyMs = 5 }).Problem());
        Assert.Equal("requester_id is not bound to the receipt's public key", (receipt with { RequesterPublicKey = other.PublicKey.ToArray() }).Problem());
        var forged = receipt with { RequesterId = NodeIds.FromPublicKey(other.PublicKey), RequesterPublicKey = other.PublicKey.ToArray() };
        Assert.Equal("bad signature", forged.Problem());
        Assert.Throws<ArgumentException>(() => receipt.SignWith(other));
        Assert.Equal(receipt.ReplayFingerprint(), (receipt with { Verdict = Verdict.Correct }).ReplayFingerprint());
        Assert.NotEqual(receipt.ReplayFingerprint(), (receipt with { JobId = "job-2" }).ReplayFingerprint());
    }
}
