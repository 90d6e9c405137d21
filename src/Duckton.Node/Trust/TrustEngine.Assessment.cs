using System.Collections.Concurrent;
using System.Globalization;
using Duckton.Core.Configuration;
using Duckton.Core.Trust;
using Duckton.Node.Grid;

namespace Duckton.Node.Trust;

// The trust engine, part: policy from configuration, attestation and bid checks, and one host's assessment (standing, trust, selection score).
public sealed partial class TrustEngine
{
    // ---------------------------------------------------------------- policy

    public static TrustPolicy PolicyFor(NodeConfig c) => new()
    {
        Weights = new TrustWeights(c.Trust.Weights.AlphaReputation, c.Trust.Weights.BetaAge, c.Trust.Weights.GammaVoucher, c.Trust.Weights.DeltaStake),
        BootstrapTrust = c.Trust.BootstrapTrust,
        MinAttestation = AttestationLevel.L0, // the attestation floor is a separate hard filter here
        ExplorationRate = c.Economics.Ranking.ExplorationRate,
        ExplorationSaturation = c.Economics.Ranking.ExplorationSaturation,
        VouchWeight = c.Sybil.VouchWeight,
    };

    public static ReputationParameters ParametersFor(NodeConfig c) => new()
    {
        HalfLife = c.Trust.ReputationHalfLife,
        PriorAlpha = c.Economics.Reputation.PriorAlpha,
        PriorBeta = c.Economics.Reputation.PriorBeta,
        Z = c.Economics.Reputation.ConfidenceZ,
    };

    public static SelectionWeights WeightsFor(NodeConfig c) => new(c.Economics.Ranking.WQuality, c.Economics.Ranking.WStake, c.Economics.Ranking.WPrice,
        c.Economics.Ranking.WLatency, c.Economics.Ranking.WThroughput, 0, c.Economics.Ranking.StakeReliabilityFloor);

    /// <summary>
    /// The floors of one query: configuration (already including per-call min_trust / min_attestation), raised —
    /// never lowered — by the data class: Public L0 / 0.70, Internal L1 / 0.85, Sensitive L2 / 0.80.
    /// </summary>
    public static (double MinTrust, AttestationLevel MinAttestation) Floors(NodeConfig c, QueryOverrides overrides)
    {
        var (trust, level) = overrides.DataClass switch
        {
            DataClass.Internal => (0.85, AttestationLevel.L1),
            DataClass.Sensitive => (0.80, AttestationLevel.L2),
            _ => (0.0, AttestationLevel.L0),
        };
        return (Math.Max(c.Trust.MinTrust, trust), (AttestationLevel)Math.Max((int)c.Trust.MinAttestation, (int)level));
    }

    /// <summary>
    /// Verifies attestation evidence (trusted authority keys + allowlisted measurements): built from
    /// <c>trust.attestation_authorities</c> / <c>trust.allowed_measurements</c> (rebuilt when they change) unless code
    /// sets one explicitly (setting null returns to the configured one); configuration changes apply within a second. Null — no authority configured, the
    /// default — means every claim above L0 counts as L0, with the reason.
    /// </summary>
    public AttestationVerifier? Verifier
    {
        get => _verifierOverride ?? ConfiguredVerifier();
        set => _verifierOverride = value;
    }

    private AttestationVerifier? _verifierOverride;
    private ConfiguredAttestation? _configuredVerifier; // a reference, so readers never see a torn update

    private sealed record ConfiguredAttestation(System.Collections.Immutable.ImmutableArray<string> Authorities, System.Collections.Immutable.ImmutableArray<string> Measurements, AttestationVerifier? Verifier,
        long CheckedAt);

    private AttestationVerifier? ConfiguredVerifier(bool fresh = false)
    {
        var cached = _configuredVerifier;
        // Resolving the configuration reads its files: at most once a second (it is consulted per bid and per assessment).
        if (!fresh && cached is not null && _time.GetElapsedTime(cached.CheckedAt) < TimeSpan.FromSeconds(1))
        {
            return cached.Verifier;
        }
        NodeConfig c;
        try
        {
            c = _config();
        }
        catch (ConfigException)
        {
            return cached?.Verifier; // an invalid configuration keeps the last valid verifier
        }
        var authorities = c.Trust.AttestationAuthorities;
        var measurements = c.Trust.AllowedMeasurements;
        if (cached is { } hit && hit.Authorities.SequenceEqual(authorities) && hit.Measurements.SequenceEqual(measurements))
        {
            _configuredVerifier = hit with { CheckedAt = _time.GetTimestamp() };
            return hit.Verifier;
        }
        var verifier = AttestationVerifier.FromConfig(authorities, measurements);
        if (cached is not null)
        {
            _attested.Clear(); // tiers verified under the old settings no longer count
        }
        _configuredVerifier = new ConfiguredAttestation(authorities, measurements, verifier, _time.GetTimestamp());
        return verifier;
    }

    /// <summary>What p2p_status shows about attestation: "no", "yes (N authorities, M measurements)", with SIMULATED when the demo authority is trusted.</summary>
    public string VerifierDescription()
    {
        if ((_verifierOverride ?? ConfiguredVerifier(fresh: true)) is not { } v)
        {
            return "no (claims above L0 count as L0)";
        }
        var measurements = v.AllowedMeasurements.Values.Sum(m => m.Count);
        var text = string.Create(CultureInfo.InvariantCulture, $"yes ({v.Authorities.Count} authorit{(v.Authorities.Count == 1 ? "y" : "ies")}, {measurements} allowlisted measurement{(measurements == 1 ? "" : "s")}{(_verifierOverride is null ? "" : ", set by code")})");
        return v.TrustsSimulatedDemoAuthority ? text + " — trusts the SIMULATED demo authority (no TPM/TEE hardware; test/demo only)" : text;
    }

    private readonly ConcurrentDictionary<string, (AttestationLevel Level, string? Note)> _attested = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AttestationLevel> _jobFloors = new(StringComparer.Ordinal);

    /// <summary>
    /// The attestation tier that counts for a host: what its last bid's evidence (bound to that offer's nonce)
    /// verified to; L0 for a claim that never verified, with the reason.
    /// </summary>
    public (AttestationLevel Level, string? Note) VerifiedAttestation(PeerEntry peer)
    {
        var claimed = (AttestationLevel)Math.Min(peer.Advert.Attestation, (byte)AttestationLevel.L2);
        if (_attested.TryGetValue(peer.NodeId, out var verified))
        {
            return verified;
        }
        return claimed == AttestationLevel.L0 ? (AttestationLevel.L0, null)
            : (AttestationLevel.L0, $"claimed {claimed} counted as L0: " + (Verifier is null ? "no trusted attestation authority configured" : "no evidence verified yet"));
    }

    /// <summary>
    /// The coordinator's bid check: verifies the bid's evidence against the offer's nonce and enforces the job's
    /// attestation floor. Fails closed: if the check itself fails, the bid is refused and the error logged.
    /// </summary>
    public string? CheckBid(PeerEntry host, ulong nonce, Duckton.Core.Protocol.BidMessage bid)
    {
        try
        {
            return CheckBidOrThrow(host, nonce, bid);
        }
        catch (Exception e)
        {
            _logger.BidCheckFailed(host.NodeId, bid.JobId, e);
            return "attestation could not be checked: " + e.Message;
        }
    }

    private string? CheckBidOrThrow(PeerEntry peer, ulong nonce, Duckton.Core.Protocol.BidMessage bid)
    {
        _quotes[peer.NodeId] = bid.Quote ?? default;
        var claimed = (AttestationLevel)Math.Min(bid.Attestation, (byte)AttestationLevel.L2);
        (AttestationLevel Level, string? Note) result;
        if (claimed == AttestationLevel.L0)
        {
            result = (AttestationLevel.L0, null);
        }
        else if (Verifier is not { } verifier)
        {
            result = (AttestationLevel.L0, $"claimed {claimed} counted as L0: no trusted attestation authority configured");
        }
        else
        {
            var nonceBytes = new byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(nonceBytes, nonce);
            var outcome = verifier.Verify(claimed, bid.Evidence, nonceBytes, peer.Advert.PublicKey);
            var simulated = Duckton.Core.Trust.AttestationEvidence.TryDecode(bid.Evidence) is { } e
                && e.AuthorityPublicKey.AsSpan().SequenceEqual(SimulatedAttestationAuthority.Demo.PublicKey);
            result = outcome.Problem is null
                ? (outcome.Level, simulated ? $"{outcome.Level} verified against the SIMULATED demo authority (no TPM/TEE hardware)" : null)
                : (AttestationLevel.L0, $"claimed {claimed} counted as L0: {outcome.Problem}");
        }
        _attested[peer.NodeId] = result;
        return _jobFloors.TryGetValue(bid.JobId, out var floor) && result.Level < floor
            ? $"verified tier {result.Level} is below the required {floor}" + (result.Note is { } n ? $" ({n})" : "")
            : null;
    }

    /// <summary>Registers the attestation floor of a job (enforced on every bid); <see cref="EndJob"/> removes it.</summary>
    public void BeginJob(string jobId, AttestationLevel floor)
    {
        if (floor > AttestationLevel.L0)
        {
            _jobFloors[jobId] = floor;
        }
    }

    public void EndJob(string jobId) => _jobFloors.TryRemove(jobId, out _);

    /// <summary>Only an attestation floor makes <see cref="CheckBid"/> refuse a host (or an internal error, which it also reports).</summary>
    public bool BidCanRefuse(string jobId) => _jobFloors.ContainsKey(jobId);

    /// <summary>
    /// Effective trust of <paramref name="workerId"/> with the configured weights, bootstrap, penalties, vouchers and the
    /// stake last read for it (none read yet: 0).
    /// </summary>
    public TrustBreakdown Evaluate(string workerId, NodeConfig c, AttestationLevel level = AttestationLevel.L0) =>
        Evaluate(workerId, c, level, StakeFactorOf(Stakes.Peek(workerId).Counted, c), out _);

    private sealed record Cached(long Generation, long At, (TrustPolicy, ReputationParameters, double, int, double) Key, AttestationLevel Level, TrustBreakdown Trust, int Observations);

    private readonly ConcurrentDictionary<string, Cached> _cache = new(StringComparer.Ordinal);

    /// <summary>Cached for a second unless the worker's stored history changed (reputation decays over days).</summary>
    private TrustBreakdown Evaluate(string workerId, NodeConfig c, AttestationLevel level, double stakeFactor, out int observations)
    {
        var store = Store;
        var generation = store.Generation(workerId);
        var now = _time.GetTimestamp();
        var key = (PolicyFor(c), ParametersFor(c), c.Economics.Ranking.NewcomerTrustCeiling, c.Economics.Ranking.NewcomerObsThreshold, stakeFactor);
        if (_cache.TryGetValue(workerId, out var hit) && hit.Generation == generation && hit.Level == level && hit.Key == key
            && _time.GetElapsedTime(hit.At, now) < TimeSpan.FromSeconds(1))
        {
            observations = hit.Observations;
            return Adjust(workerId, hit.Trust);
        }
        var b = store.Evaluate(workerId, key.Item1, key.Item2, stake: stakeFactor, attestation: level, requesterId: _identity.NodeId);
        observations = store.ObservationCount(workerId, _identity.NodeId);
        var ceiling = c.Economics.Ranking.NewcomerTrustCeiling;
        if (ceiling < 1 && observations < c.Economics.Ranking.NewcomerObsThreshold)
        {
            b = b with { Effective = Math.Min(b.Effective, ceiling) };
        }
        _cache[workerId] = new Cached(generation, now, key, level, b, observations);
        return Adjust(workerId, b);
    }

    private TrustBreakdown Adjust(string workerId, TrustBreakdown b) => _flags.ContainsKey(workerId) || _evidence.ContainsKey(workerId) ? b with { Effective = 0 } : b;

    /// <summary>
    /// Where <paramref name="peer"/> stands for this query. Fails closed: if the store or configuration fails, the host
    /// is <see cref="Standing.Unassessable"/> (never selected) and the error logged.
    /// </summary>
    public HostAssessment Assess(PeerEntry peer, NodeConfig c, QueryOverrides overrides) => Assess(peer, c, overrides, priceScore: 1);

    /// <param name="priceScore">The host's place among the quotes of a paid query's candidates (1 cheapest; 1 for free queries).</param>
    private HostAssessment Assess(PeerEntry peer, NodeConfig c, QueryOverrides overrides, double priceScore)
    {
        try
        {
            return AssessOrThrow(peer, c, overrides, priceScore);
        }
        catch (Exception e)
        {
            _logger.AssessmentFailed(peer.NodeId, e);
            return new HostAssessment(peer.NodeId, Standing.Unassessable, new TrustBreakdown(0, 0, 0, 0, 0, 0, 0, false, 0), 0, AttestationLevel.L0,
                "could not be assessed: " + e.Message, 0, false);
        }
    }

    private HostAssessment AssessOrThrow(PeerEntry peer, NodeConfig c, QueryOverrides overrides, double priceScore)
    {
        var (minTrust, minLevel) = Floors(c, overrides);
        var (level, note) = VerifiedAttestation(peer);
        CheckReceiptDigest(peer.Advert);
        var stake = Stakes.Get(peer.NodeId, peer.Advert.PublicKey);
        var requiredStake = Economics.PaymentPolicy.RequiredStakeTon(c);
        var trust = Evaluate(peer.NodeId, c, level, StakeFactorOf(stake.Counted, c), out var observations);
        var flagged = _flags.ContainsKey(peer.NodeId) || _evidence.ContainsKey(peer.NodeId) || trust.Penalties > 0;
        Standing standing;
        if (Store.IsBlocked(peer.NodeId))
        {
            standing = Standing.Blocked;
        }
        else if (_evidence.ContainsKey(peer.NodeId))
        {
            // Objective evidence (its own signed wrong answer) outranks every vote and every floor, min_trust => 0 included.
            standing = Standing.Failed;
        }
        else if (requiredStake > 0 && stake.Counted < requiredStake)
        {
            standing = Standing.BelowStake;
        }
        else if (level < minLevel)
        {
            // A claim at or above the floor that was never checked: a probe (its bid carries the evidence) decides.
            var claimed = (AttestationLevel)Math.Min(peer.Advert.Attestation, (byte)AttestationLevel.L2);
            standing = claimed >= minLevel && !_attested.ContainsKey(peer.NodeId) ? Standing.Unvetted : Standing.BelowAttestation;
        }
        else if (trust.Effective >= minTrust)
        {
            standing = Standing.Trusted;
        }
        else if (flagged)
        {
            standing = Standing.Failed;
        }
        else if (overrides.DataClass is DataClass.Internal or DataClass.Sensitive || overrides.MinTrustSource != ConfigSource.Default)
        {
            // Probation (canary vetting) admits newcomers to Public work under the default policy only: a min_trust
            // someone chose (per call, runtime, file or environment) is a hard floor.
            standing = Standing.BelowTrust;
        }
        else if (_vetted.TryGetValue(peer.NodeId, out var passed))
        {
            standing = passed ? Standing.Vetted : Standing.Failed;
        }
        else
        {
            standing = Standing.Unvetted;
        }
        return new HostAssessment(peer.NodeId, standing, trust, observations, level, note, Selection(peer.NodeId, trust, c, priceScore), flagged) { StakeTon = stake.StakeTon };
    }

    /// <remarks>
    /// The stake term is the trust's stake factor, gated by the host's verified-success rate (its reputation R from
    /// receipts: no stake counts below <c>economics.ranking.stake_reliability_floor</c>), so stake amplifies only
    /// hosts that have proved reliable.
    /// </remarks>
    private double Selection(string nodeId, TrustBreakdown trust, NodeConfig c, double priceScore)
    {
        var inputs = new SelectionInputs { EffectiveTrust = trust.Effective, Reliability = trust.Reputation, StakeFactor = trust.Stake, PriceScore = priceScore };
        if (_perf.TryGetValue(nodeId, out var p) && p.Samples > 0)
        {
            inputs = inputs with
            {
                LatencyScore = SelectionScore.LatencyScore(p.LatencyMs, p.Bytes),
                ThroughputScore = p.ByteSamples > 0 ? SelectionScore.ThroughputScore(p.LatencyMs, p.Bytes) : 0.5,
            };
        }
        return SelectionScore.Compute(inputs, WeightsFor(c));
    }
}
