using System.Diagnostics;
using System.Threading.Channels;
using Duckton.Core.Protocol;
using Duckton.Transport;
using Microsoft.Extensions.Logging;
using CoreConfig = Duckton.Core.Configuration;

namespace Duckton.Node.Grid;

/// <summary>
/// The requester side: races k hosts, accepts as soon as q signed commits agree, fetches from the fastest agreeing
/// host, cancels everyone else at once, and returns rows only after the whole result re-hashed to the agreed hash.
/// Failed attempts are re-dispatched with exclusion, exponential backoff and a shared retry budget.
/// </summary>
public sealed partial class Coordinator
{
    private const int InitialCredit = 8;
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(2);
    private readonly NodeIdentity _identity;
    private readonly ConnectionPool _pool;
    private readonly Membership _membership;
    private readonly string _engineVersion;
    private readonly TimeProvider _time;
    private readonly ITrustGate _trust;
    private readonly IReceiptSink _receipts;
    private readonly ILogger _logger;
    private readonly Lock _bucketGate = new();
    private double _tokens = double.NaN;
    private long _bucketStamp;

    /// <param name="trust">Ranks candidates, picks shadows and checks every bid's attestation (fails closed).</param>
    /// <param name="receipts">Receives the verdicts of every attempt and issues receipts.</param>
    public Coordinator(NodeIdentity identity, ConnectionPool pool, Membership membership, string engineVersion, ITrustGate trust, IReceiptSink receipts,
        TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(membership);
        ArgumentNullException.ThrowIfNull(engineVersion);
        ArgumentNullException.ThrowIfNull(trust);
        ArgumentNullException.ThrowIfNull(receipts);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _identity = identity;
        _pool = pool;
        _membership = membership;
        _engineVersion = engineVersion;
        _trust = trust;
        _receipts = receipts;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// The trust gate's verdict on a bid; an exception inside the gate refuses the bid (fail closed) and is logged.
    /// </summary>
    internal string? CheckBid(PeerEntry host, ulong nonce, BidMessage bid)
    {
        try
        {
            return _trust.CheckBid(host, nonce, bid);
        }
        catch (Exception e)
        {
            _logger.BidCheckFailed(host.NodeId, bid.JobId, e);
            return "attestation could not be checked: " + e.Message;
        }
    }

    /// <summary>Whether the Dispatch of <paramref name="offer"/> may go out with it, before the Bid: a free job whose bid cannot refuse its host.</summary>
    internal bool DispatchWithOffer(OfferMessage offer)
    {
        try
        {
            return !offer.Paid && !_trust.BidCanRefuse(offer.JobId);
        }
        catch (Exception)
        {
            return false; // fail closed: wait for the bid
        }
    }

    /// <summary>
    /// The trust gate's evidence against a host; an exception inside the gate counts as evidence (fail closed: the
    /// host's vote is not counted) and is logged as an assessment failure.
    /// </summary>
    private string? EvidenceAgainst(string nodeId)
    {
        try
        {
            return _trust.Evidence(nodeId);
        }
        catch (Exception e)
        {
            _logger.AssessmentFailed(nodeId, e);
            return "evidence could not be checked: " + e.Message;
        }
    }

    public int MaxFrameBytes { get; init; } = 16 << 20;

    /// <summary>Sees each remote query's phases (offers, commits, quorum, verified rows); null: nobody watches.</summary>
    public IGridProgressObserver? Progress { get; set; }

    /// <summary>
    /// Opens and funds a paid job's escrow once its commits reach the quorum, before any Fetch (on-chain rail only): hosts
    /// that charge stream rows only against it. Null: no escrow can be funded, so such hosts refuse to stream.
    /// </summary>
    public Func<Economics.EscrowFunding, CancellationToken, Task<Economics.PendingEscrow>>? FundEscrow { get; set; }

    private void Notify(string jobId, GridPhase phase, int hosts, int commits, int quorum, long rows = 0)
    {
        try
        {
            Progress?.OnProgress(new GridProgress(jobId, phase, hosts, commits, quorum, rows));
        }
        catch (Exception)
        {
            // A display must never fail a query.
        }
    }

    /// <summary>Where a result larger than <c>transport.result.max_buffer_bytes</c> is spilled while it is verified; null = the system temp directory.</summary>
    public string? SpillDirectory { get; set; }

    /// <summary>True once this node has run a remote query (the runtime then keeps connections to hosts warm).</summary>
    public bool HasRun => Volatile.Read(ref _hasRun);

    private bool _hasRun;

    /// <summary>Live hosts that match the query's labels, minus <paramref name="excluded"/>.</summary>
    public IReadOnlyList<PeerEntry> Eligible(CoreConfig.NodeConfig config, QueryOverrides overrides, IReadOnlySet<string>? excluded = null)
    {
        var minLevel = config.Trust.MinAttestation;
        var now = _time.GetUtcNow();
        return _membership.Live().Where(p =>
            p.NodeId != _identity.NodeId
            && p.State == PeerState.Alive
            && p.Advert.Enabled
            && (excluded is null || !excluded.Contains(p.NodeId))
            && p.Advert.Attestation >= (int)minLevel
            && (overrides.Nodes is not { Count: > 0 } nodes || nodes.Contains(p.NodeId))
            && (overrides.Network is not { Length: > 0 } net || p.Advert.Networks.Contains(net))
            && (overrides.Groups is not { Count: > 0 } groups || Memberships.MatchesGroups(p.Advert, p.NodeId, groups, config.Membership, now))
            && (overrides.Regions is not { Count: > 0 } regions || Memberships.MatchesRegions(p.Advert, p.NodeId, regions, config.Membership, now))).ToList();
    }

    /// <summary>
    /// When the network / groups / regions / nodes filters leave fewer than <paramref name="quorum"/> of the live hosts:
    /// which filter excluded which hosts (and what they advertise). Null when the filters are not the cause.
    /// </summary>
    private string? LabelShortfall(CoreConfig.NodeConfig config, QueryOverrides overrides, int matching, int quorum)
    {
        if (matching >= quorum)
        {
            return null;
        }
        var live = _membership.Live().Where(p => p.NodeId != _identity.NodeId && p.State == PeerState.Alive && p.Advert.Enabled).ToList();
        var now = _time.GetUtcNow();
        static string Short(PeerEntry p) => p.NodeId.Length > 12 ? p.NodeId[..12] : p.NodeId;
        static string Quoted(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(i => $"'{i}'")) + "]";
        var filters = new List<(string Name, Func<PeerEntry, bool> Match, Func<PeerEntry, string> Shows)>();
        if (overrides.Nodes is { Count: > 0 } nodes)
        {
            filters.Add(($"nodes => {Quoted(nodes.Select(n => n.Length > 12 ? n[..12] + "…" : n))}", p => nodes.Contains(p.NodeId), _ => "not listed"));
        }
        if (overrides.Network is { Length: > 0 } net)
        {
            filters.Add(($"network => '{net}'", p => p.Advert.Networks.Contains(net), p => "networks " + Quoted(p.Advert.Networks)));
        }
        if (overrides.Groups is { Count: > 0 } groups)
        {
            var m = config.Membership;
            var enforced = m.GroupEnforcement == CoreConfig.GroupEnforcement.Token;
            filters.Add(($"groups => {Quoted(groups)}", p => Memberships.MatchesGroups(p.Advert, p.NodeId, groups, m, now),
                p => "groups " + Quoted(p.Advert.Groups) + (enforced && groups.FirstOrDefault(p.Advert.Groups.Contains) is { } g
                    ? $", '{g}' not verified: {Memberships.GroupRefusal(p.Advert, p.NodeId, g, m, now)} (group_enforcement = token)" : "")));
        }
        if (overrides.Regions is { Count: > 0 } regions)
        {
            filters.Add(($"regions => {Quoted(regions)}", p => Memberships.MatchesRegions(p.Advert, p.NodeId, regions, config.Membership, now),
                p => Memberships.RegionRefusal(p.Advert, p.NodeId, regions, config.Membership, now) ?? ""));
        }
        var excludedBy = filters.Select(f => (f.Name, Hosts: live.Where(p => !f.Match(p)).Select(p => $"{Short(p)} ({f.Shows(p)})").ToList()))
            .Where(f => f.Hosts.Count > 0).ToList();
        if (live.Count == 0 || excludedBy.Count == 0)
        {
            return null;
        }
        var minLevel = config.Trust.MinAttestation;
        var lowAttestation = live.Count(p => p.Advert.Attestation < (int)minLevel);
        return $"{matching} of {live.Count} live host(s) match this query's filters, need quorum {quorum}: "
            + string.Join("; ", excludedBy.Select(f => $"{f.Name} excluded {f.Hosts.Count} host(s): {string.Join(", ", f.Hosts)}"))
            + (lowAttestation > 0 ? $"; min_attestation {minLevel} excluded {lowAttestation} host(s)" : "")
            + "; widen the filters (see each host's networks, groups and region in p2p_peers()) or lower quorum =>";
    }

    /// <summary>
    /// The one quorum rule: agreeing hosts a query needs — 1 in fast mode or for SQL whose result cannot be verified
    /// (it would differ between honest hosts), <c>scheduler.quorum</c> otherwise. The planner and every attempt use it.
    /// </summary>
    public static int RequiredQuorum(string sql, CoreConfig.NodeConfig config) =>
        config.Scheduler.VerifyMode == CoreConfig.VerifyMode.Fast || Determinism.UnverifiableReason(sql) is not null ? 1 : config.Scheduler.Quorum;

    public async Task<RemoteOutcome> RunAsync(string sql, string jobId, CoreConfig.NodeConfig config, QueryOverrides overrides, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _hasRun, true);
        // Refused here, naming the bound: a host would only drop an oversized dispatch.
        var sqlBytes = System.Text.Encoding.UTF8.GetByteCount(sql);
        var sqlLimit = Math.Min(config.Network.MaxSqlBytes, ProtoLimits.MaxSqlBytes);
        if (sqlBytes > sqlLimit)
        {
            throw new GridQueryException(Worker.SqlTooLarge(sqlBytes, sqlLimit));
        }
        var s = config.Scheduler;
        var unverifiable = Determinism.UnverifiableReason(sql);
        var fast = s.VerifyMode == CoreConfig.VerifyMode.Fast;
        var quorum = RequiredQuorum(sql, config);
        var replicas = Math.Max(s.Replicas, quorum);
        var inputPin = overrides.InputPin is { Length: > 0 } pin ? Convert.FromHexString(pin) : [];
        var plan = new AttemptPlan(sql, jobId, JobIds.QueryHash(_engineVersion, sql), config, replicas, quorum, unverifiable, fast, inputPin,
            Economics.PaymentPolicy.IsPaid(config, overrides));
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        var rejected = new List<string>();
        var started = _time.GetTimestamp();
        var attempt = 0;
        var busyRetries = 0;
        var receipts = 0;
        string lastReason = "";
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var context = new CandidateContext(jobId, sql, config, overrides);
            var eligible = Eligible(config, overrides, excluded);
            var ranked = _trust.Rank(eligible, context);
            var sample = ranked.Take(Math.Max(config.Discovery.CandidateSampleSize, replicas)).ToList();
            // Shadows only make sense against a verified quorum answer.
            var shadows = fast || unverifiable is not null ? [] : _trust.Shadows(eligible.Where(p => !sample.Exists(x => x.NodeId == p.NodeId)).ToList(), context);
            if (sample.Count < quorum)
            {
                var have = sample.Count;
                if (attempt == 0)
                {
                    throw new GridQueryException(LabelShortfall(config, overrides, eligible.Count, quorum)
                        ?? _trust.Shortfall(eligible, context, quorum)
                        ?? (have == 0
                            ? "no hosts available to run this query on the grid; join one with p2p_join(bootstrap => ['host:port']) or run it locally with prefer => 'local'"
                            : $"not enough hosts: have {have}, need quorum {quorum}; lower quorum => or add hosts"));
                }
                throw new GridQueryException($"re-dispatch exhausted after {attempt} attempt(s) without a usable result (last reason: {lastReason})");
            }
            var result = await AttemptAsync(plan, sample, shadows, cancellationToken).ConfigureAwait(false);
            attempt++;
            rejected.AddRange(result.Rejected);
            receipts += result.Receipts;
            if (result.Outcome is { } ok)
            {
                return ok with { Attempts = attempt, Rejected = rejected, Receipts = receipts, Shadows = shadows.Count };
            }
            lastReason = result.Reason;
            if (result.Terminal)
            {
                throw new GridQueryException(result.Reason);
            }
            var before = excluded.Count;
            excluded.UnionWith(result.Exclude);
            // Busy hosts are asked again after a backoff, a few times: room frees up as their jobs end, but a grid that
            // stays full must still fail the query rather than retry forever.
            if (result.Busy && excluded.Count == before)
            {
                busyRetries++;
            }
            if (excluded.Count == before && (!result.Busy || busyRetries > MaxBusyRetries))
            {
                throw new GridQueryException($"re-dispatch cannot make progress after {attempt} attempt(s) (last reason: {lastReason})");
            }
            if (s.MaxRetries != 0 && attempt > s.MaxRetries)
            {
                throw new GridQueryException($"re-dispatch exhausted after {attempt} attempt(s) without a usable result (last reason: {lastReason})");
            }
            if (s.MaxTotalDuration > TimeSpan.Zero && _time.GetElapsedTime(started) >= s.MaxTotalDuration)
            {
                throw new GridQueryException($"scheduler.max_total_duration_ms reached after {attempt} attempt(s) (last reason: {lastReason})");
            }
            if (!TakeRetryToken(s))
            {
                throw new GridQueryException($"retry budget exhausted after {attempt} attempt(s) — stopping to avoid a retry storm (last reason: {lastReason})");
            }
            var baseDelay = Math.Min(s.BackoffInitial.TotalMilliseconds * Math.Pow(2, attempt - 1), s.BackoffMax.TotalMilliseconds);
            var delay = baseDelay * (1 - (s.BackoffJitterFrac * Random.Shared.NextDouble()));
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(0, delay)), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes one token of the retry budget shared by every retry this node makes (re-dispatches, busy canaries); false when empty.</summary>
    internal bool TakeRetryToken(CoreConfig.SchedulerConfig s)
    {
        if (s.RetryBudgetMaxTokens <= 0)
        {
            return true;
        }
        lock (_bucketGate)
        {
            var now = _time.GetTimestamp();
            if (double.IsNaN(_tokens))
            {
                _tokens = s.RetryBudgetMaxTokens;
            }
            else
            {
                _tokens = Math.Min(s.RetryBudgetMaxTokens, _tokens + (_time.GetElapsedTime(_bucketStamp, now).TotalSeconds * s.RetryBudgetRefillPerSec));
            }
            _bucketStamp = now;
            if (_tokens < 1)
            {
                return false;
            }
            _tokens -= 1;
            return true;
        }
    }

    /// <summary>Attempts repeated only because hosts were busy (declined at capacity or their share for this requester).</summary>
    /// <remarks>Six: with the default backoff (0.2 s doubling to 5 s, up to half of it jittered away) about 5–10 s of
    /// waiting for room, enough for a burst of queries from one identity to drain through its share of slots.</remarks>
    private const int MaxBusyRetries = 6;

    /// <summary>
    /// Runs <paramref name="sql"/> on one host up to its signed commit only (no rows are fetched), then releases it (the
    /// job is cancelled, or the rows the host sent with its commit are read and dropped): the canary probe of the trust engine. Dispatched exactly as a free query is (inline rows asked for included), so a
    /// host cannot tell a canary from a query. Never throws for a host failure.
    /// </summary>
    public async Task<ProbeResult> ProbeAsync(PeerEntry candidate, string sql, string jobId, CoreConfig.NodeConfig config, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var queryHash = JobIds.QueryHash(_engineVersion, sql);
        var events = Channel.CreateUnbounded<HostRun>();
        var run = new HostRun(this, candidate, NewOffer(jobId, queryHash, config), NewDispatch(jobId, queryHash, sql, config, false, [], paid: false), config.Scheduler, events.Writer);
        var sw = Stopwatch.StartNew();
        run.Start();
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            var ev = await events.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
            ev.Reported = true;
            if (ev.Commit is { } commit)
            {
                return CommitProblem(commit, ev, jobId, queryHash) is { } problem
                    ? new ProbeResult(null, Duckton.Core.Trust.Verdict.Malformed, problem, sw.Elapsed.TotalMilliseconds)
                    : new ProbeResult(commit, null, null, ev.CommitLatencyMs);
            }
            var timedOut = ev.Failure?.StartsWith("timed out", StringComparison.Ordinal) == true;
            var verdict = ev.Violated ? Duckton.Core.Trust.Verdict.Malformed : timedOut ? Duckton.Core.Trust.Verdict.Timeout : (Duckton.Core.Trust.Verdict?)null;
            return new ProbeResult(null, verdict, ev.Failure, sw.Elapsed.TotalMilliseconds) { Busy = ev.Busy };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeResult(null, Duckton.Core.Trust.Verdict.Timeout, $"no commit within {timeout.TotalMilliseconds:0} ms", sw.Elapsed.TotalMilliseconds);
        }
        finally
        {
            // Wait (bounded) until the host acknowledged the cancel: with a small budget, its slot would otherwise still
            // be taken when the query this canary vets arrives.
            run.Release();
            await TaskWaits.Within(run.Recycled, s_drainTimeout, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
