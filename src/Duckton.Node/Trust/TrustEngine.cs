using System.Collections.Concurrent;
using System.Globalization;
using Duckton.Core.Configuration;
using Duckton.Core.Trust;
using Duckton.Node.Grid;
using Duckton.Transport;
using Microsoft.Extensions.Logging;

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

/// <summary>
/// The requester's trust engine (docs/TRUST.md): issues and stores signed receipts for every verdict,
/// ranks candidates by effective trust and requester-measured performance (a <see cref="ICandidateRanker"/>), applies
/// min_trust / min_attestation / data-class floors and the deny-list as hard filters, and vets newcomers with canary
/// queries (known answers computed locally) so a fresh grid is usable under the default policy.
/// </summary>
public sealed class TrustEngine : ITrustGate, IReceiptSink, IGossipParticipant
{
    /// <summary>Longest a canary probe waits for a newcomer's commit.</summary>
    public static readonly TimeSpan CanaryTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a canary keeps asking a newcomer that declines it as busy (at capacity, or this identity's share of its
    /// job slots taken), with the scheduler's backoff and retry budget, before the newcomer counts as not vetted.
    /// </summary>
    public static readonly TimeSpan CanaryBusyWindow = TimeSpan.FromSeconds(20);

    private readonly Func<TrustStore> _store;
    private readonly NodeIdentity _identity;
    private readonly Func<NodeConfig> _config;
    private readonly TimeProvider _time;
    private readonly IKnownAnswers _knownAnswers;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, bool> _vetted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task<bool>> _canaries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Perf> _perf = new(StringComparer.Ordinal);

    /// <summary>Smallest fetched result that counts as a throughput sample (64 KiB).</summary>
    internal const long MinThroughputSampleBytes = 64 * 1024;
    private readonly ConcurrentDictionary<string, string> _flags = new(StringComparer.Ordinal);
    /// <summary>Node id → the first piece of objective evidence against it (mirrors the store's evidence table).</summary>
    private readonly ConcurrentDictionary<string, string> _evidence = new(StringComparer.Ordinal);

    /// <param name="knownAnswers">Computes canaries' expected answers locally.</param>
    /// <param name="logger">Where fail-closed decisions (a store or verifier that failed) are explained.</param>
    public TrustEngine(Func<TrustStore> store, NodeIdentity identity, Func<NodeConfig> config, IKnownAnswers knownAnswers, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(knownAnswers);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _store = store;
        _identity = identity;
        _config = config;
        _knownAnswers = knownAnswers;
        _time = time;
        _logger = logger;
        LoadPersisted();
        // Another process sharing the config directory judged or measured hosts: adopt its vetting, flags and measurements.
        Store.ExternalChange += LoadPersisted;
    }

    /// <summary>
    /// Restores the vetting outcomes, flags (hosts caught hiding receipts) and requester-measured performance persisted in
    /// the trust store, so a requester restarted (even after SIGKILL) does not re-vet hosts it already judged, forgive
    /// a host it caught, or forget what it measured.
    /// </summary>
    private void LoadPersisted()
    {
        var store = Store;
        foreach (var (node, (passed, _)) in store.Vetting())
        {
            _vetted[node] = passed;
        }
        var flags = store.Flags();
        foreach (var (node, reason) in flags)
        {
            _flags[node] = reason;
        }
        foreach (var node in _flags.Keys.Where(n => !flags.ContainsKey(n)))
        {
            _flags.TryRemove(node, out _);
        }
        foreach (var e in store.Evidence())
        {
            // Evidence is never withdrawn: only added (by this process or another sharing the store).
            _evidence.TryAdd(e.NodeId, Describe(e));
        }
        foreach (var (node, p) in store.Perf())
        {
            // This process's own measurements are newer than what it wrote behind; others' fill in hosts it has not measured.
            _perf.TryAdd(node, new Perf
            {
                LatencyMs = p.LatencyMs,
                Bytes = p.Bytes,
                Samples = (int)Math.Clamp(p.Samples, 0, int.MaxValue),
                ByteSamples = (int)Math.Clamp(p.ByteSamples, 0, int.MaxValue),
            });
        }
    }

    /// <summary>Records a canary vetting outcome in memory and in the store (written only when it changes).</summary>
    private void SetVetted(string nodeId, bool passed)
    {
        if (_vetted.TryGetValue(nodeId, out var old) && old == passed)
        {
            return;
        }
        _vetted[nodeId] = passed;
        Store.SetVetting(nodeId, passed, _time.GetUtcNow());
    }

    /// <summary>The requester-measured latency / fetched-bytes EWMAs of a host, if any (what selection uses).</summary>
    public (double LatencyMs, double Bytes, int Samples, int ByteSamples)? MeasuredPerformance(string nodeId)
    {
        if (!_perf.TryGetValue(nodeId, out var p))
        {
            return null;
        }
        lock (p)
        {
            return (p.LatencyMs, p.Bytes, p.Samples, p.ByteSamples);
        }
    }

    public TrustStore Store => _store();

    /// <summary>
    /// Hosts' stake, read from their vaults (cached): feeds the δ·stake term of trust, the reliability-gated stake term of
    /// selection and the stake requirements. <see cref="Economics.StakeBook.None"/> (economics off): every stake is 0.
    /// </summary>
    public Economics.StakeBook Stakes { get; set; } = Economics.StakeBook.None;

    /// <summary>Each host's latest price quote (from its bids): the price term of paid selection.</summary>
    private readonly ConcurrentDictionary<string, Duckton.Core.Protocol.PriceQuote> _quotes = new(StringComparer.Ordinal);

    /// <summary>The latest price a host quoted this node (null: it never bid here).</summary>
    public Duckton.Core.Protocol.PriceQuote? LastQuote(string nodeId) => _quotes.TryGetValue(nodeId, out var q) ? q : null;

    private static double StakeFactorOf(double stakeTon, NodeConfig c) => StakeFactor.Compute(stakeTon, c.Economics.Stake.MinStake, c.Economics.Stake.StakeCap);

    /// <summary>
    /// The deny-list check every grid part uses (requester, host, transport): a store that cannot be read blocks rather
    /// than admits, and the error is logged.
    /// </summary>
    public bool IsBlocked(string nodeId)
    {
        try
        {
            return Store.IsBlocked(nodeId);
        }
        catch (Exception e)
        {
            _logger.DenyListCheckFailed(nodeId, e);
            return true;
        }
    }

    private sealed class Perf
    {
        public double LatencyMs;
        public double Bytes;
        public int Samples;
        public int ByteSamples;
    }

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

    // ---------------------------------------------------------------- ranking

    /// <summary>
    /// Trusted hosts first, each by selection score. Vetted probationary hosts follow only while fewer than
    /// <c>scheduler.replicas</c> hosts are trusted (and <c>trust.probation_fills_quorum</c>): once enough hosts are
    /// trusted, newcomers are checked as shadow replicas (<see cref="Shadows"/>) instead of counted. Everyone else is dropped.
    /// </summary>
    public IReadOnlyList<PeerEntry> Rank(IReadOnlyList<PeerEntry> candidates, CandidateContext context)
    {
        var c = context.Config;
        Stakes.Warm(candidates.Select(p => (p.NodeId, (ReadOnlyMemory<byte>)p.Advert.PublicKey)), StakeWarmBound);
        var prices = PriceScores(candidates, c, context.Overrides);
        var assessed = candidates.Select(p => (p, a: Assess(p, c, context.Overrides, prices.GetValueOrDefault(p.NodeId, 1)), tie: Random.Shared.Next()))
            .Where(x => x.a.Standing is Standing.Trusted or Standing.Vetted).ToList();
        var trusted = assessed.Count(x => x.a.Standing == Standing.Trusted);
        if (trusted >= Math.Max(c.Scheduler.Replicas, c.Scheduler.Quorum) || !c.Trust.ProbationFillsQuorum)
        {
            assessed.RemoveAll(x => x.a.Standing != Standing.Trusted);
        }
        var ranked = assessed.OrderBy(x => x.a.Standing == Standing.Trusted ? 0 : 1).ThenByDescending(x => x.a.Selection).ThenBy(x => x.tie).Select(x => x.p).ToList();
        return Diversify(ranked, Math.Max(c.Scheduler.Replicas, c.Scheduler.Quorum), Related);
    }

    /// <summary>Longest a selection waits for the first stake readings of hosts it has none for.</summary>
    public static readonly TimeSpan StakeWarmBound = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The price term of a paid query: <c>1 − (p − pmin) / (pmax − pmin)</c> over the candidates' latest quotes, p being the
    /// quote's price for this job's time bound (all equal: 1). A host that never quoted here gets 0.5 (unknown). Free
    /// queries: every host 1 (price plays no part).
    /// </summary>
    private Dictionary<string, double> PriceScores(IReadOnlyList<PeerEntry> candidates, NodeConfig c, QueryOverrides overrides)
    {
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        if (!Economics.PaymentPolicy.IsPaid(c, overrides))
        {
            return scores;
        }
        var timeoutMs = (uint)Math.Min(uint.MaxValue, c.Scheduler.DispatchTimeout.TotalMilliseconds);
        var known = candidates.Select(p => (p.NodeId, Price: LastQuote(p.NodeId)?.JobCap(timeoutMs))).ToList();
        var prices = known.Where(k => k.Price is not null).Select(k => (double)k.Price!.Value).ToList();
        var (min, max) = prices.Count == 0 ? (0d, 0d) : (prices.Min(), prices.Max());
        foreach (var (id, price) in known)
        {
            scores[id] = price is not { } p ? 0.5 : max <= min ? 1 : 1 - ((p - min) / (max - min));
        }
        return scores;
    }

    /// <summary>Hosts first seen within this window of each other look like one operator's batch.</summary>
    public static readonly TimeSpan RelatedFirstSeenWindow = TimeSpan.FromMinutes(2);

    private (long At, IReadOnlyDictionary<string, DateTimeOffset> FirstSeen) _firstSeen = (0, new Dictionary<string, DateTimeOffset>());

    /// <summary>First sightings from the store, re-read at most every few seconds (selection runs per query).</summary>
    private IReadOnlyDictionary<string, DateTimeOffset> FirstSeen()
    {
        var cached = _firstSeen;
        var now = _time.GetTimestamp();
        if (cached.At != 0 && _time.GetElapsedTime(cached.At, now) < TimeSpan.FromSeconds(5))
        {
            return cached.FirstSeen;
        }
        IReadOnlyDictionary<string, DateTimeOffset> map;
        try
        {
            map = Store.KnownPeers().ToDictionary(p => p.NodeId, p => p.FirstSeen, StringComparer.Ordinal);
        }
        catch (Exception e)
        {
            // Diversity is a preference, not a gate: without first sightings only the address and vouch signals apply.
            _logger.AssessmentFailed("(first-seen times)", e);
            map = cached.FirstSeen;
        }
        _firstSeen = (now, map);
        return map;
    }

    /// <summary>
    /// Whether two hosts look like one operator: the same /24 (IPv4) or /64 (IPv6) address prefix, first seen within
    /// <see cref="RelatedFirstSeenWindow"/> of each other, or vouching for each other (either way).
    /// </summary>
    private bool Related(PeerEntry a, PeerEntry b)
    {
        if (SamePrefix(a.Address, b.Address))
        {
            return true;
        }
        var seen = FirstSeen();
        if (seen.TryGetValue(a.NodeId, out var fa) && seen.TryGetValue(b.NodeId, out var fb) && (fa - fb).Duration() <= RelatedFirstSeenWindow)
        {
            return true;
        }
        var store = Store;
        return store.VouchersOf(a.NodeId).Contains(b.NodeId, StringComparer.Ordinal) || store.VouchersOf(b.NodeId).Contains(a.NodeId, StringComparer.Ordinal);
    }

    /// <summary>True when both addresses are IP literals in the same /24 (IPv4) or /64 (IPv6) network.</summary>
    public static bool SamePrefix(string addressA, string addressB)
    {
        if (!TryPrefix(addressA, out var a) || !TryPrefix(addressB, out var b))
        {
            return false;
        }
        return a.AsSpan().SequenceEqual(b);

        static bool TryPrefix(string address, out byte[] prefix)
        {
            prefix = [];
            var host = address;
            if (host.StartsWith('['))
            {
                var end = host.IndexOf(']', StringComparison.Ordinal);
                host = end > 0 ? host[1..end] : host;
            }
            else if (host.Count(ch => ch == ':') == 1)
            {
                host = host[..host.IndexOf(':', StringComparison.Ordinal)];
            }
            if (!System.Net.IPAddress.TryParse(host, out var ip))
            {
                return false;
            }
            if (ip.IsIPv4MappedToIPv6)
            {
                ip = ip.MapToIPv4();
            }
            var bytes = ip.GetAddressBytes();
            prefix = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? bytes[..3] : bytes[..8];
            return true;
        }
    }

    /// <summary>
    /// Reorders <paramref name="ranked"/> so its first <paramref name="picks"/> hosts avoid related pairs when
    /// unrelated hosts are available: greedily, in rank order, each pick is the best-ranked host related to none
    /// already picked (or, if every remaining host is related, the one related to the fewest). The rest keep their order.
    /// </summary>
    public static IReadOnlyList<T> Diversify<T>(IReadOnlyList<T> ranked, int picks, Func<T, T, bool> related)
    {
        ArgumentNullException.ThrowIfNull(ranked);
        ArgumentNullException.ThrowIfNull(related);
        var remaining = ranked.ToList();
        var chosen = new List<T>();
        while (chosen.Count < picks && remaining.Count > 0)
        {
            var best = 0;
            var bestRelated = int.MaxValue;
            for (var i = 0; i < remaining.Count && bestRelated > 0; i++)
            {
                var n = chosen.Count(c => related(c, remaining[i]));
                if (n < bestRelated)
                {
                    (best, bestRelated) = (i, n);
                }
            }
            chosen.Add(remaining[best]);
            remaining.RemoveAt(best);
        }
        chosen.AddRange(remaining);
        return chosen;
    }

    /// <summary>
    /// Up to <c>trust.shadow_replicas</c> newcomers (vetted or not yet vetted, never failed, blocked or below a floor),
    /// least observed first: they run the query beside the quorum and are judged against its verified answer.
    /// </summary>
    public IReadOnlyList<PeerEntry> Shadows(IReadOnlyList<PeerEntry> candidates, CandidateContext context)
    {
        var n = context.Config.Trust.ShadowReplicas;
        if (n <= 0 || candidates.Count == 0)
        {
            return [];
        }
        // A shadow never counts and never serves rows, so an explicit min_trust floor does not keep newcomers from
        // shadowing (that is how they earn trust); only the data-class rule does.
        var overrides = context.Overrides with { MinTrustSource = ConfigSource.Default };
        return candidates.Select(p => (p, a: Assess(p, context.Config, overrides), tie: Random.Shared.Next()))
            .Where(x => x.a.Standing is Standing.Vetted or Standing.Unvetted)
            .OrderBy(x => x.a.Observations).ThenBy(x => x.tie).Take(n).Select(x => x.p).ToList();
    }

    /// <summary>
    /// Why fewer than <paramref name="needed"/> candidates can be selected when an explicit min_trust is the cause: the
    /// floor, where it was set, the best trust available and how to proceed. Null otherwise.
    /// </summary>
    public string? Shortfall(IReadOnlyList<PeerEntry> candidates, CandidateContext context, int needed)
    {
        var c = context.Config;
        var o = context.Overrides;
        if (Economics.PaymentPolicy.RequiredStakeTon(c) is > 0 and var required)
        {
            var below = candidates.Select(p => Assess(p, c, o)).Where(a => a.Standing == Standing.BelowStake).ToList();
            var usable = candidates.Count - below.Count;
            if (below.Count > 0 && usable < needed)
            {
                return string.Create(CultureInfo.InvariantCulture, $"not enough staked hosts: {below.Count} of {candidates.Count} host(s) have less stake than required ")
                    + (c.Scheduler.RequireStakedHosts ? "(require_staked_hosts" : "(")
                    + (c.Sybil.MinStake > 0 ? string.Create(CultureInfo.InvariantCulture, $"{(c.Scheduler.RequireStakedHosts ? ", " : "")}sybil.min_stake {c.Sybil.MinStake} TON") : "")
                    + $"): {string.Join(", ", below.Take(4).Select(a => $"{a.NodeId[..Math.Min(12, a.NodeId.Length)]} {(a.StakeTon is { } t ? t.ToString("0.###", CultureInfo.InvariantCulture) + " TON" : "unknown")}"))}"
                    + $"; need quorum {needed} (stake source: {Stakes.Source.Description}); see stake_ton in p2p_peers()";
            }
        }
        var proven = candidates.Count(p => _evidence.ContainsKey(p.NodeId));
        if (proven > 0)
        {
            var usable = candidates.Count(p => Assess(p, c, o).Standing is Standing.Trusted or Standing.Vetted);
            if (usable < needed)
            {
                return $"not enough hosts: {usable} of {candidates.Count} can be selected, need quorum {needed}; {proven} host(s) are excluded by evidence of wrong answers "
                    + "(their own signed commits; see flag_reason in p2p_peers()) whatever min_trust says; add hosts, lower quorum => or run it here with prefer => 'local'";
            }
        }
        if (o.MinTrustSource == ConfigSource.Default || candidates.Count == 0)
        {
            return null;
        }
        var assessed = candidates.Select(p => Assess(p, c, o)).Where(a => a.Standing is not (Standing.Blocked or Standing.Unassessable or Standing.BelowAttestation)).ToList();
        var meeting = assessed.Count(a => a.Standing == Standing.Trusted);
        if (meeting >= needed || assessed.Count == 0)
        {
            return null;
        }
        var floor = Floors(c, o).MinTrust;
        var best = assessed.MaxBy(a => a.Trust.Effective)!;
        var where = o.MinTrustSource == ConfigSource.Call ? "set per call" : o.MinTrustSource.ToConfigString();
        return string.Create(CultureInfo.InvariantCulture,
            $"min_trust {floor:0.###} ({where}) is a hard floor: {meeting} of {assessed.Count} host(s) meet it, need quorum {needed}; best available trust is {best.Trust.Effective:0.###} (host {best.NodeId[..Math.Min(12, best.NodeId.Length)]}); lower min_trust, run it here with prefer => 'local', or wait for hosts to earn trust (queries under the default policy earn newcomers receipts)");
    }

    /// <summary>Hosts that may run this query at all (not blocked, not below the attestation floor, not failed).</summary>
    public IReadOnlyList<PeerEntry> Usable(IReadOnlyList<PeerEntry> candidates, NodeConfig c, QueryOverrides overrides) =>
        candidates.Where(p => Assess(p, c, overrides).Standing is Standing.Trusted or Standing.Vetted or Standing.Unvetted).ToList();

    /// <summary>
    /// Warm-up: when fewer than <paramref name="needed"/> candidates are trusted or vetted, sends a canary to every
    /// unvetted newcomer at once and waits until enough passed (or all answered, or <see cref="CanaryTimeout"/> plus
    /// a second passed). Also injects an audit canary at <c>trust.canary_rate</c> into normal traffic.
    /// </summary>
    public async Task PrepareAsync(Coordinator coordinator, IReadOnlyList<PeerEntry> candidates, NodeConfig c, QueryOverrides overrides, int needed, CancellationToken cancellationToken)
    {
        var assessed = candidates.Select(p => (p, a: Assess(p, c, overrides))).ToList();
        var ready = assessed.Count(x => x.a.Standing is Standing.Trusted or Standing.Vetted);
        if (c.Trust.CanaryRate > 0 && Random.Shared.NextDouble() < c.Trust.CanaryRate)
        {
            var audited = assessed.Where(x => x.a.Standing is Standing.Trusted or Standing.Vetted).Select(x => x.p).OrderBy(_ => Random.Shared.Next()).FirstOrDefault();
            if (audited is not null)
            {
                _ = Task.Run(() => RunCanaryAsync(coordinator, audited, c, CancellationToken.None), CancellationToken.None);
            }
        }
        if (ready >= needed)
        {
            return;
        }
        var pending = new List<Task<bool>>();
        foreach (var (p, a) in assessed)
        {
            if (a.Standing == Standing.Unvetted)
            {
                pending.Add(_canaries.GetOrAdd(p.NodeId, _ => Task.Run(async () =>
                {
                    try
                    {
                        return await RunCanaryAsync(coordinator, p, c, CancellationToken.None).ConfigureAwait(false);
                    }
                    finally
                    {
                        _canaries.TryRemove(p.NodeId, out Task<bool>? _);
                    }
                }, CancellationToken.None)));
            }
        }
        var started = _time.GetTimestamp();
        var bound = Task.Delay(CanaryTimeout + TimeSpan.FromSeconds(1), _time, cancellationToken);
        var extended = false;
        while (ready < needed && pending.Count > 0)
        {
            var done = await Task.WhenAny([.. pending, bound]).ConfigureAwait(false);
            if (done == bound)
            {
                // Only canaries asking a busy host again earn more time: one may start its last probe at the end of
                // the busy window. A silent host still costs the first query no more than the canary timeout.
                if (extended || Volatile.Read(ref _busyCanaries) == 0)
                {
                    break;
                }
                extended = true;
                var left = CanaryBusyWindow + CanaryTimeout + TimeSpan.FromSeconds(1) - _time.GetElapsedTime(started);
                bound = Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero, _time, cancellationToken);
                continue;
            }
            var t = (Task<bool>)done;
            pending.Remove(t);
            if (t is { IsCompletedSuccessfully: true, Result: true })
            {
                ready++;
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Runs one canary on <paramref name="peer"/>; true when it committed the expected answer.</summary>
    public async Task<bool> RunCanaryAsync(Coordinator coordinator, PeerEntry peer, NodeConfig c, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        ArgumentNullException.ThrowIfNull(c);
        // A host that declines for lack of room (its slots, or this identity's share of them, are taken) has not failed
        // the canary: it is asked again after a backoff. Many processes on one identity (shells sharing a config
        // directory) vet the same hosts at once, so busy answers are the norm right after they join.
        var s = c.Scheduler;
        var started = _time.GetTimestamp();
        var counted = false;
        try
        {
            for (var busy = 0; ; busy++)
            {
                var (passed, wasBusy) = await RunCanaryOnceAsync(coordinator, peer, c, cancellationToken).ConfigureAwait(false);
                if (!wasBusy)
                {
                    return passed;
                }
                var left = CanaryBusyWindow - _time.GetElapsedTime(started);
                if (left <= TimeSpan.Zero || !coordinator.TakeRetryToken(s))
                {
                    return false;
                }
                if (!counted)
                {
                    counted = true;
                    Interlocked.Increment(ref _busyCanaries);
                }
                var backoff = Math.Min(s.BackoffInitial.TotalMilliseconds * Math.Pow(2, Math.Min(busy, 30)), s.BackoffMax.TotalMilliseconds);
                var delay = TimeSpan.FromMilliseconds(Math.Max(0, backoff * (1 - (s.BackoffJitterFrac * Random.Shared.NextDouble()))));
                await Task.Delay(delay < left ? delay : left, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (counted)
            {
                Interlocked.Decrement(ref _busyCanaries);
            }
        }
    }

    /// <summary>Canaries currently asking a busy host again (the warm-up waits longer only for them).</summary>
    private int _busyCanaries;

    /// <summary>One canary probe: (passed, the host declined it as busy so nothing was judged).</summary>
    private async Task<(bool Passed, bool Busy)> RunCanaryOnceAsync(Coordinator coordinator, PeerEntry peer, NodeConfig c, CancellationToken cancellationToken)
    {
        var jobId = Duckton.Core.Protocol.JobIds.NewJobId();
        var sql = CanarySqlFor(jobId);
        string expected;
        try
        {
            expected = _knownAnswers.ExpectedHash(sql);
        }
        catch (Exception)
        {
            return (false, false);
        }
        var probe = await coordinator.ProbeAsync(peer, sql, jobId, c, CanaryTimeout, cancellationToken).ConfigureAwait(false);
        if (probe.Busy)
        {
            return (false, true);
        }
        var queryHash = Duckton.Core.Protocol.JobIds.QueryHash(GridNode.EngineVersion, sql);
        Verdict? verdict = probe.Commit is { } commit ? (commit.ResultHash == expected ? Verdict.Correct : Verdict.Incorrect) : probe.Failure;
        if (verdict is { } v)
        {
            Issue(jobId, queryHash, [new HostVerdict(peer.NodeId, v, probe.Commit?.ResultHash ?? "", probe.Commit?.RowCount ?? 0, probe.LatencyMs, 0, probe.Detail ?? "canary")], c);
            // Counted where the SQL status and the dashboard read it (a probe the host refused outright is not a judged run).
            Store.RecordCanary(jobId, peer.NodeId, v);
        }
        if (verdict == Verdict.Incorrect && probe.Commit is { } wrong)
        {
            // The host signed an answer that differs from the one this node computed itself: evidence, not a vote.
            RecordEvidence(new EvidenceEntry(peer.NodeId, EvidenceKinds.WrongCanary, jobId,
                $"signed canary answer {Abbrev(wrong.ResultHash)}, expected {Abbrev(expected)}", wrong.Encode(), _time.GetUtcNow()));
        }
        var passed = verdict == Verdict.Correct;
        if (verdict is Verdict.Correct or Verdict.Incorrect or Verdict.Malformed)
        {
            SetVetted(peer.NodeId, passed);
        }
        return (passed, false);
    }

    /// <summary>A fresh deterministic known-answer query (random constants, so answers cannot be memorised).</summary>
    public static string CanarySql()
    {
        var r = Random.Shared;
        return CanarySql(r.Next(500, 5000), r.Next(2, 1000), r.Next(7, 997), r.Next(3, 50));
    }

    private static string CanarySql(int n, int a, int m, int b) => string.Create(CultureInfo.InvariantCulture,
        $"SELECT i % {b} AS k, count(*) AS n, sum((i * {a}) % {m}) AS s FROM range({n}) t(i) GROUP BY ALL ORDER BY k");

    /// <summary>
    /// The canary this node sends as job <paramref name="jobId"/>: its constants come from this node's own (deterministic)
    /// Ed25519 signature over the job id, so no host can predict them, yet this node can rebuild the query later to
    /// re-check a wrong answer before it slashes (the evidence keeps only the host's signed commit).
    /// </summary>
    public string CanarySqlFor(string jobId)
    {
        var sig = _identity.Sign(System.Text.Encoding.UTF8.GetBytes("duckton-canary-v1:" + jobId));
        int Pick(int offset, int min, int max) => min + (int)(BitConverter.ToUInt32(sig, offset) % (uint)(max - min));
        return CanarySql(Pick(0, 500, 5000), Pick(4, 2, 1000), Pick(8, 7, 997), Pick(12, 3, 50));
    }

    /// <summary>The known answer (canonical result hash) of <paramref name="sql"/>, computed in this node's own engine.</summary>
    public string KnownAnswer(string sql) => _knownAnswers.ExpectedHash(sql);

    // ---------------------------------------------------------------- receipts

    /// <summary>Signs, stores and applies one receipt per verdict; returns how many were newly stored.</summary>
    public int Issue(string jobId, string queryHash, IReadOnlyList<HostVerdict> verdicts, NodeConfig? config = null)
    {
        var c = config ?? _config();
        var stored = 0;
        var now = (ulong)_time.GetUtcNow().ToUnixTimeSeconds();
        foreach (var given in verdicts)
        {
            if (Reconsider(jobId, given) is not { } v)
            {
                continue;
            }
            var receipt = new Receipt
            {
                JobId = jobId,
                WorkerId = v.NodeId,
                RequesterId = _identity.NodeId,
                QueryHash = queryHash,
                ResultHash = v.ResultHash,
                Verdict = v.Verdict,
                LatencyMs = (ulong)Math.Max(0, v.LatencyMs),
                Timestamp = now,
                ObservedResultRows = v.Rows,
                ObservedResultBytes = (ulong)Math.Max(0, v.Bytes),
            }.SignWith(_identity.PublicKey.Span, b => _identity.Sign(b));
            if (!Store.AddReceipt(receipt, signedHere: true))
            {
                continue;
            }
            stored++;
            lock (_recent)
            {
                _recent.Enqueue(receipt);
                while (_recent.Count > RecentReceipts)
                {
                    _recent.Dequeue();
                }
            }
            _undelivered.GetOrAdd(v.NodeId, _ => new ConcurrentQueue<Receipt>()).Enqueue(receipt);
            if (v.Shadow && v.Verdict is Verdict.Correct or Verdict.Incorrect or Verdict.Malformed)
            {
                // A shadow replica's checked answer vets a newcomer as well as a canary does.
                SetVetted(v.NodeId, v.Verdict == Verdict.Correct);
            }
            if (v.Verdict == Verdict.Incorrect && c.Trust.IncorrectPenalty > 0)
            {
                Store.AddPenalty(v.NodeId, c.Trust.IncorrectPenalty, $"incorrect answer in job {jobId}" + (v.Detail is { } d ? $": {d}" : ""));
                SetVetted(v.NodeId, false);
            }
            if (v.Verdict == Verdict.Correct && v.LatencyMs > 0)
            {
                var p = _perf.GetOrAdd(v.NodeId, _ => new Perf());
                lock (p)
                {
                    const double alpha = 0.3;
                    p.LatencyMs = p.Samples == 0 ? v.LatencyMs : ((1 - alpha) * p.LatencyMs) + (alpha * v.LatencyMs);
                    p.Samples++;
                    if (v.Bytes >= MinThroughputSampleBytes)
                    {
                        // Throughput only from results this node actually fetched from the host, and only from results
                        // big enough for transfer to dominate: a few hundred bytes measure latency, not bandwidth, and
                        // would rank a measured host below an unmeasured one (whose score is the neutral 0.5).
                        p.Bytes = p.ByteSamples == 0 ? v.Bytes : ((1 - alpha) * p.Bytes) + (alpha * v.Bytes);
                        p.ByteSamples++;
                    }
                    // Persisted with every change (one upsert next to the receipt insert; under the lock so writes stay in order).
                    Store.SetPerf(v.NodeId, new TrustStore.PerfSample(p.LatencyMs, p.Bytes, p.Samples, p.ByteSamples, _time.GetUtcNow()));
                }
            }
        }
        if (stored > 0 && Grid is { } grid)
        {
            foreach (var worker in verdicts.Select(v => v.NodeId).Distinct())
            {
                // One delivery per host per coalescing window carries every receipt issued meanwhile: under load this
                // is one round trip per window instead of one per query.
                if (_deliveryScheduled.TryAdd(worker, 0))
                {
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await Task.Delay(DeliveryCoalescing, _time).ConfigureAwait(false);
                        }
                        finally
                        {
                            _deliveryScheduled.TryRemove(worker, out _);
                        }
                        await DeliverAsync(grid, worker).ConfigureAwait(false);
                    }, CancellationToken.None);
                }
            }
        }
        return stored;
    }

    // ---------------------------------------------------------------- evidence

    /// <summary>
    /// Stores <paramref name="entry"/> durably (first) and excludes its host from selection from now on. A store that
    /// fails still excludes the host in this process; the failure is logged.
    /// </summary>
    public void RecordEvidence(EvidenceEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        _evidence.TryAdd(entry.NodeId, Describe(entry));
        try
        {
            Store.AddEvidence(entry);
        }
        catch (Exception e)
        {
            _logger.AssessmentFailed(entry.NodeId, e);
        }
        _cache.TryRemove(entry.NodeId, out _);
        try
        {
            EvidenceRecorded?.Invoke(entry);
        }
        catch (Exception e)
        {
            // A subscriber (the slasher) must never break the query path that found the evidence.
            _logger.AssessmentFailed(entry.NodeId, e);
        }
    }

    /// <summary>Raised after a piece of evidence was recorded by this process (the slasher acts on it without waiting for its next round).</summary>
    public event Action<EvidenceEntry>? EvidenceRecorded;

    /// <summary>This node's identity id (the requester named in the commits its evidence holds).</summary>
    public string NodeId => _identity.NodeId;

    /// <summary>Why <paramref name="nodeId"/> is excluded by objective evidence, or null when there is none.</summary>
    public string? Evidence(string nodeId) => _evidence.TryGetValue(nodeId, out var why) ? why : null;

    /// <summary>Every host with evidence against it and why (what <c>p2p_peers()</c> and the chaos runner show).</summary>
    public IReadOnlyDictionary<string, string> EvidenceByHost() => new Dictionary<string, string>(_evidence, StringComparer.Ordinal);

    private static string Describe(EvidenceEntry e) => (e.Kind == EvidenceKinds.WrongCanary ? "wrong canary answer" : "commit contradicting a verified certificate")
        + $" in job {Abbrev(e.JobId)}: {e.Detail}";

    private static string Abbrev(string s) => s.Length > 16 ? s[..16] : s;

    /// <summary>
    /// The verdict to issue for <paramref name="v"/> given the evidence: none for a verdict taken on the word of a
    /// quorum that holds a host with evidence (an honest minority is not judged by proven cheaters), no Correct for a
    /// host with evidence (its reputation cannot rise), and evidence recorded for a commit that contradicts a quorum of
    /// vetted hosts without evidence.
    /// </summary>
    private HostVerdict? Reconsider(string jobId, HostVerdict v)
    {
        if (v.Quorum is { Count: > 0 } quorum && quorum.Any(_evidence.ContainsKey) && v.Verdict is Verdict.Incorrect or Verdict.Correct)
        {
            return null;
        }
        if (v.Verdict == Verdict.Correct && _evidence.ContainsKey(v.NodeId))
        {
            return null;
        }
        if (v is { Verdict: Verdict.Incorrect, Contradicting: { } commit, Quorum: { Count: > 0 } signers }
            && commit.HostNodeId == v.NodeId && !signers.Contains(v.NodeId) && signers.All(s => IsVetted(s) && !_evidence.ContainsKey(s)) && commit.VerifySignature())
        {
            // Under the honest-majority assumption a quorum of hosts that each proved a known answer contains an
            // honest host, so a signed commit over the same input that contradicts it is wrong.
            RecordEvidence(new EvidenceEntry(v.NodeId, EvidenceKinds.ContradictsCertificate, jobId,
                $"signed result {Abbrev(commit.ResultHash)} where {signers.Count} vetted host(s) certified another over the same input",
                commit.Encode(), _time.GetUtcNow()));
        }
        return v;
    }

    // ---------------------------------------------------------------- receipt gossip and the hidden-receipt check

    private const int RecentReceipts = 32;

    /// <summary>How long receipts about one host are gathered before they are delivered to it in one batch.</summary>
    public static readonly TimeSpan DeliveryCoalescing = TimeSpan.FromMilliseconds(200);
    private readonly ConcurrentDictionary<string, byte> _deliveryScheduled = new(StringComparer.Ordinal);
    private static readonly TimeSpan s_deliverySlack = TimeSpan.FromSeconds(2);
    private readonly Queue<Receipt> _recent = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Receipt>> _undelivered = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<ulong, long>> _delivered = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _deliveryGates = new(StringComparer.Ordinal);

    /// <summary>The grid this engine delivers receipts over (set by the node when the grid starts).</summary>
    public GridRuntime? Grid { get; set; }

    /// <summary>Gossip counters: receipts accepted, replays ignored, forged/tampered/unbound ones rejected.</summary>
    public long GossipAccepted => Interlocked.Read(ref _receiptGossip.Accepted);
    public long GossipReplayed => Interlocked.Read(ref _receiptGossip.Replayed);
    public long GossipRejected => Interlocked.Read(ref _receiptGossip.Rejected);

    /// <summary>The receipts this node pushes on a gossip exchange: the most recent ones it issued.</summary>
    public IReadOnlyList<byte[]> ReceiptsToShare()
    {
        lock (_recent)
        {
            return [.. _recent.Select(Duckton.Core.Protocol.ReceiptMessage.Encode)];
        }
    }

    /// <summary>
    /// Verifies and stores a gossiped receipt: decodes, checks the requester's signature and that requester_id is
    /// bound to its key, refuses self-issued receipts and blocked requesters, dedups replays through the store.
    /// Returns "accepted", "replay" or "rejected: why".
    /// </summary>
    public string IngestReceipt(ReadOnlySpan<byte> payload, string fromPeer) =>
        Ingest(payload, Duckton.Core.Protocol.ReceiptMessage.Decode, "receipt", _receiptGossip,
            receipt => receipt.Problem()
                ?? (receipt.WorkerId == receipt.RequesterId ? "self-issued receipt" : null)
                ?? (IsBlocked(receipt.RequesterId) || IsBlocked(fromPeer) ? "requester or sender is blocked" : null),
            receipt => Store.AddReceipt(receipt));

    private delegate T SpanDecoder<out T>(ReadOnlySpan<byte> payload);

    /// <summary>Accepted / replayed / rejected counts of one kind of gossiped signed message.</summary>
    private sealed class GossipCounters
    {
        public long Accepted;
        public long Replayed;
        public long Rejected;
    }

    private readonly GossipCounters _receiptGossip = new();
    private readonly GossipCounters _vouchGossip = new();

    /// <summary>
    /// The common path of a gossiped signed message: decode (malformed = rejected), check (a reason = rejected), store
    /// (false = replay). Returns "accepted", "replay" or "rejected: why" and counts the outcome.
    /// </summary>
    private static string Ingest<T>(ReadOnlySpan<byte> payload, SpanDecoder<T> decode, string kind, GossipCounters counters, Func<T, string?> check, Func<T, bool> store)
    {
        T message;
        try
        {
            message = decode(payload);
        }
        catch (Exception e) when (e is Duckton.Core.Protocol.ProtocolException or ArgumentException or FormatException)
        {
            Interlocked.Increment(ref counters.Rejected);
            return "rejected: malformed " + kind;
        }
        if (check(message) is { } problem)
        {
            Interlocked.Increment(ref counters.Rejected);
            return "rejected: " + problem;
        }
        if (!store(message))
        {
            Interlocked.Increment(ref counters.Replayed);
            return "replay";
        }
        Interlocked.Increment(ref counters.Accepted);
        return "accepted";
    }

    /// <summary>
    /// Delivers the receipts about <paramref name="workerId"/> it has not seen yet to that host, then waits for a Pong:
    /// the host handles frames in order, so the Pong proves it processed them. Delivered receipts are what the
    /// hidden-receipt check holds the host's advert to.
    /// </summary>
    public async Task DeliverAsync(GridRuntime grid, string workerId)
    {
        if (!_undelivered.TryGetValue(workerId, out var queue) || queue.IsEmpty || grid.Membership.Find(workerId) is not { } peer)
        {
            return;
        }
        var gate = _deliveryGates.GetOrAdd(workerId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync().ConfigureAwait(false);
        Duckton.Transport.PeerConnection? c = null;
        var batch = new List<Receipt>();
        try
        {
            while (queue.TryDequeue(out var r))
            {
                batch.Add(r);
            }
            if (batch.Count == 0)
            {
                return;
            }
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            c = await grid.Pool.RentAsync(peer.Address, workerId, cts.Token).ConfigureAwait(false);
            foreach (var r in batch)
            {
                await c.SendAsync(Duckton.Transport.MessageType.Receipt, Duckton.Core.Protocol.ReceiptMessage.Encode(r), cts.Token).ConfigureAwait(false);
            }
            var nonce = (ulong)Random.Shared.NextInt64();
            await c.SendAsync(Duckton.Transport.MessageType.Ping, new Duckton.Core.Protocol.PingMessage(nonce, 0).Encode(), cts.Token).ConfigureAwait(false);
            while (true)
            {
                var f = await c.ReceiveAsync(cts.Token).ConfigureAwait(false);
                if (f.Type == Duckton.Transport.MessageType.Pong && Duckton.Core.Protocol.PingMessage.Decode(f.Payload.Span).Nonce == nonce)
                {
                    break;
                }
            }
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var delivered = _delivered.GetOrAdd(workerId, _ => new ConcurrentDictionary<ulong, long>());
            foreach (var r in batch)
            {
                delivered.TryAdd(r.ReplayFingerprint(), now);
            }
            grid.Pool.Return(c);
            c = null;
        }
        catch (Exception)
        {
            foreach (var r in batch)
            {
                queue.Enqueue(r); // retried with the next receipt about this host
            }
        }
        finally
        {
            if (c is not null)
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
            gate.Release();
        }
    }

    /// <summary>The (count, digest) of receipts about this node that it holds, for its own advert (see <see cref="Duckton.Core.Protocol.AdvertMessage.ReceiptDigest"/>).</summary>
    public (ulong Count, byte[] Digest) OwnReceiptSummary()
    {
        var fps = Store.ReplayFingerprints(_identity.NodeId);
        return ((ulong)fps.Count, Digest(fps));
    }


    /// <summary>BLAKE3("duckton-receipts-digest-v1" ‖ fingerprints as u64 LE, ascending); 32 zero bytes for none.</summary>
    public static byte[] Digest(IEnumerable<ulong> fingerprints)
    {
        var sorted = fingerprints.Order().ToList();
        if (sorted.Count == 0)
        {
            return new byte[32];
        }
        var domain = "duckton-receipts-digest-v1"u8;
        var buffer = new byte[domain.Length + (8 * sorted.Count)];
        domain.CopyTo(buffer);
        for (var i = 0; i < sorted.Count; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(domain.Length + (8 * i)), sorted[i]);
        }
        return Duckton.Core.Hashing.Blake3.Hash(buffer);
    }

    /// <summary>
    /// Holds a host's advert to the receipts this node delivered to it (acknowledged) before the advert was signed
    /// (less a 2 s slack): the advertised count must be at least that many, and when it is exactly that many the digest
    /// must match. Otherwise the host hides receipts about itself: it is flagged and its trust counts as 0.
    /// </summary>
    public string? CheckReceiptDigest(Duckton.Core.Protocol.AdvertMessage advert)
    {
        if (!_delivered.TryGetValue(advert.NodeId, out var delivered) || delivered.IsEmpty)
        {
            return null;
        }
        // Receipts delivered after an advert was signed never fall before its cutoff, so one check per advert is exact.
        if (_digestChecked.TryGetValue(advert.NodeId, out var last) && last.TimestampMs == advert.TimestampMs && last.Count == delivered.Count)
        {
            return last.Why;
        }
        var why = CheckDigestNow(advert, delivered);
        _digestChecked[advert.NodeId] = (advert.TimestampMs, delivered.Count, why);
        return why;
    }

    private readonly ConcurrentDictionary<string, (ulong TimestampMs, int Count, string? Why)> _digestChecked = new(StringComparer.Ordinal);

    private string? CheckDigestNow(Duckton.Core.Protocol.AdvertMessage advert, ConcurrentDictionary<ulong, long> delivered)
    {
        var cutoff = (long)Math.Min(advert.TimestampMs, long.MaxValue) - (long)s_deliverySlack.TotalMilliseconds;
        var due = delivered.Where(kv => kv.Value <= cutoff).Select(kv => kv.Key).ToList();
        string? why = null;
        if (advert.ReceiptCount < (ulong)due.Count)
        {
            why = $"advertises {advert.ReceiptCount} receipts about itself but this node delivered {due.Count}";
        }
        else if (advert.ReceiptCount == (ulong)due.Count && due.Count > 0 && !Digest(due).AsSpan().SequenceEqual(advert.ReceiptDigest))
        {
            why = "advertised receipt digest does not match the receipts this node delivered";
        }
        if (why is not null)
        {
            Flag(advert.NodeId, "hides receipts: " + why);
        }
        return why;
    }

    // ---------------------------------------------------------------- vouches

    /// <summary>Vouches signed further ahead of this node's clock than this are refused (clock skew allowance).</summary>
    public static readonly TimeSpan VouchClockSkew = TimeSpan.FromMinutes(10);

    private const int SharedVouches = 32;
    private long _vouchVersion;
    private SharedVouchList? _sharedVouches;

    private sealed record SharedVouchList(IReadOnlyList<Vouch> Source, IReadOnlyList<byte[]> Payloads);

    /// <summary>Vouch gossip counters: accepted, replays (or stale copies) ignored, forged/tampered/self/unbound ones rejected.</summary>
    public long VouchesAccepted => Interlocked.Read(ref _vouchGossip.Accepted);
    public long VouchesReplayed => Interlocked.Read(ref _vouchGossip.Replayed);
    public long VouchesRejected => Interlocked.Read(ref _vouchGossip.Rejected);

    /// <summary>
    /// Signs a vouch of this node for <paramref name="voucheeId"/> (weight in [0, 1]; 0 withdraws an earlier one), stores
    /// it and shares it on the following gossip exchanges.
    /// </summary>
    public Vouch CreateVouch(string voucheeId, double weight)
    {
        if (!NodeIds.IsValid(voucheeId))
        {
            throw new ArgumentException($"'{voucheeId}' is not a node id; node ids are 'b3:' followed by 64 lowercase hex digits", nameof(voucheeId));
        }
        if (voucheeId == _identity.NodeId)
        {
            throw new ArgumentException("a node cannot vouch for itself", nameof(voucheeId));
        }
        var ts = (ulong)Math.Max(0, _time.GetUtcNow().ToUnixTimeMilliseconds());
        // Strictly newer than this node's previous vouch for the same host, so the new one replaces it everywhere.
        if (Store.Vouches(voucheeId).FirstOrDefault(v => v.VoucherId == _identity.NodeId && v.Signed is not null) is { Signed: { } previous } && previous.TimestampMs >= ts)
        {
            ts = previous.TimestampMs + 1;
        }
        var vouch = new Vouch { VoucherId = _identity.NodeId, VoucheeId = voucheeId, WeightPpm = Vouch.ToPpm(weight), TimestampMs = ts }
            .SignWith(_identity.PublicKey.Span, b => _identity.Sign(b));
        Store.AddVouch(vouch);
        Interlocked.Increment(ref _vouchVersion);
        return vouch;
    }

    /// <summary>
    /// Verifies and stores a gossiped vouch: decodes, checks the voucher's signature and that voucher_id is bound to its
    /// key, refuses self-vouches, vouches signed too far in the future and blocked vouchers or senders, and keeps only
    /// the newest vouch per (voucher, vouchee) — replays and stale copies are ignored. Returns "accepted", "replay" or
    /// "rejected: why".
    /// </summary>
    public string IngestVouch(ReadOnlySpan<byte> payload, string fromPeer)
    {
        var horizon = (ulong)Math.Max(0, (_time.GetUtcNow() + VouchClockSkew).ToUnixTimeMilliseconds());
        var outcome = Ingest(payload, Duckton.Core.Protocol.VouchMessage.Decode, "vouch", _vouchGossip,
            vouch => vouch.Problem()
                ?? (vouch.TimestampMs > horizon ? "timestamp is in the future" : null)
                ?? (IsBlocked(vouch.VoucherId) || IsBlocked(fromPeer) ? "voucher or sender is blocked" : null),
            vouch => Store.AddVouch(vouch));
        if (outcome == "accepted")
        {
            Interlocked.Increment(ref _vouchVersion);
        }
        return outcome;
    }

    /// <summary>The signed vouches this node pushes on a gossip exchange (its own and relayed ones, most recently received first).</summary>
    public IReadOnlyList<byte[]> VouchesToShare()
    {
        // From the store's in-memory list (kept current by its writes and merges): no file is opened on a gossip exchange.
        var recent = Store.RecentSignedVouches;
        if (_sharedVouches is { } cached && ReferenceEquals(cached.Source, recent))
        {
            return cached.Payloads;
        }
        IReadOnlyList<byte[]> payloads = [.. recent.Take(SharedVouches).Select(Duckton.Core.Protocol.VouchMessage.Encode)];
        _sharedVouches = new SharedVouchList(recent, payloads);
        return payloads;
    }

    /// <summary>Marks a host as hiding receipts about itself (its advertised digest disagrees with what this node knows).</summary>
    public void Flag(string nodeId, string reason)
    {
        if (_flags.TryGetValue(nodeId, out var known) && known == reason)
        {
            return;
        }
        _flags[nodeId] = reason;
        Store.SetFlag(nodeId, reason);
    }

    public void Unflag(string nodeId)
    {
        if (_flags.TryRemove(nodeId, out _))
        {
            Store.SetFlag(nodeId, null);
        }
    }

    public string? FlagReason(string nodeId) => _flags.TryGetValue(nodeId, out var r) ? r : _evidence.TryGetValue(nodeId, out var e) ? "evidence: " + e : null;

    /// <summary>True when <paramref name="nodeId"/> passed its latest canary (persisted: also before a restart).</summary>
    public bool IsVetted(string nodeId) => _vetted.TryGetValue(nodeId, out var v) && v;

    /// <summary>The latest canary outcome of <paramref name="nodeId"/>: true passed, false failed, null never vetted.</summary>
    public bool? VettingOutcome(string nodeId) => _vetted.TryGetValue(nodeId, out var v) ? v : null;

    // ---------------------------------------------------------------- wiring (the grid's collaborator interfaces)

    int IReceiptSink.Issue(string jobId, string queryHash, IReadOnlyList<HostVerdict> verdicts) => Issue(jobId, queryHash, verdicts);

    void IReceiptSink.RecordDrift(string jobId, int drifted) => Store.RecordDrift(jobId, drifted);

    void IGossipParticipant.IngestReceipt(ReadOnlyMemory<byte> payload, string fromPeer) => IngestReceipt(payload.Span, fromPeer);

    IReadOnlyList<byte[]> IGossipParticipant.ReceiptsToShare(string? peerNodeId) => ReceiptsToShare();

    (ulong Count, byte[] Digest) IGossipParticipant.ReceiptSummary() => OwnReceiptSummary();

    void IGossipParticipant.IngestVouch(ReadOnlyMemory<byte> payload, string fromPeer) => IngestVouch(payload.Span, fromPeer);
}
