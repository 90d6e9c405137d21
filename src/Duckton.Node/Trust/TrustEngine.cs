using System.Collections.Concurrent;
using Duckton.Core.Configuration;
using Duckton.Core.Trust;
using Duckton.Node.Grid;
using Duckton.Transport;
using Microsoft.Extensions.Logging;

namespace Duckton.Node.Trust;

/// <summary>
/// The requester's trust engine (docs/TRUST.md): issues and stores signed receipts for every verdict,
/// ranks candidates by effective trust and requester-measured performance (a <see cref="ICandidateRanker"/>), applies
/// min_trust / min_attestation / data-class floors and the deny-list as hard filters, and vets newcomers with canary
/// queries (known answers computed locally) so a fresh grid is usable under the default policy.
/// </summary>
public sealed partial class TrustEngine : ITrustGate, IReceiptSink, IGossipParticipant
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
