using System.Diagnostics;
using System.Threading.Channels;
using Duckton.Core.Data;
using Duckton.Core.Hashing;
using Duckton.Core.Protocol;
using Duckton.Transport;
using Microsoft.Extensions.Logging;
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
    /// <summary>Time from the quorum to the verified rows (fetch, decode and re-hash), for benchmarks.</summary>
    public double FetchMilliseconds { get; init; }

    /// <summary>Receipts the trust engine issued for this job (every attempt).</summary>
    public int Receipts { get; init; }

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

/// <summary>
/// The requester side: races k hosts, accepts as soon as q signed commits agree, fetches from the fastest agreeing
/// host, cancels everyone else at once, and returns rows only after the whole result re-hashed to the agreed hash.
/// Failed attempts are re-dispatched with exclusion, exponential backoff and a shared retry budget.
/// </summary>
public sealed class Coordinator
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
        var quorum = fast || unverifiable is not null ? 1 : s.Quorum;
        var replicas = Math.Max(s.Replicas, quorum);
        var queryHash = JobIds.QueryHash(_engineVersion, sql);
        var inputPin = overrides.InputPin is { Length: > 0 } pin ? Convert.FromHexString(pin) : [];
        var paid = Economics.PaymentPolicy.IsPaid(config, overrides);
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
            var result = await AttemptAsync(sql, jobId, queryHash, config, sample, shadows, replicas, quorum, unverifiable, fast, inputPin, paid, cancellationToken).ConfigureAwait(false);
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
    private const int MaxBusyRetries = 3;

    private sealed record AttemptResult(RemoteOutcome? Outcome, string Reason, bool Terminal, IReadOnlyList<string> Exclude, IReadOnlyList<string> Rejected)
    {
        public int Receipts { get; set; }

        /// <summary>Some host was busy: a retry may succeed with the same hosts.</summary>
        public bool Busy { get; init; }
    }

    private static DispatchMessage NewDispatch(string jobId, string queryHash, string sql, CoreConfig.NodeConfig config, bool fast, byte[] inputPin) =>
        new(jobId, queryHash, sql, (ulong)config.Budget.PerJobMemoryBytes, (uint)config.Budget.PerJobThreads,
            (uint)Math.Min(uint.MaxValue, config.Scheduler.DispatchTimeout.TotalMilliseconds), fast ? (byte)1 : (byte)0, inputPin);

    private static OfferMessage NewOffer(string jobId, string queryHash, CoreConfig.NodeConfig config, bool paid = false) =>
        new(jobId, queryHash, WireDataClass.Public, (ulong)Random.Shared.NextInt64(), (ulong)config.Budget.PerJobMemoryBytes, (uint)config.Budget.PerJobThreads, "", [], [])
        {
            Paid = paid,
            MaxBidNanoton = paid ? Economics.Pricing.MaxBidNanoton(config) : 0,
        };

    /// <summary>Why a commit is not acceptable for this job, or null (a signed claim of another price than quoted included).</summary>
    private string? CommitProblem(CommitMessage commit, HostRun run, string jobId, string queryHash) =>
        commit.HostNodeId != run.Candidate.NodeId ? "commit signed by another identity"
        : commit.JobId != jobId || commit.QueryHash != queryHash || commit.RequesterNodeId != _identity.NodeId ? "commit for another job"
        : !commit.VerifySignature() ? "commit signature does not verify"
        : run.ExpectedClaim(commit) is var expected && commit.ClaimedPriceNanoton != expected
            ? $"price mismatch: the host quoted {(run.Quote is { } q ? q.ToString() : "nothing (free)")}, which bills {PriceQuote.Describe(expected)} for this job, but its signed commit claims {PriceQuote.Describe(commit.ClaimedPriceNanoton)}"
        : null;

    /// <summary>
    /// Runs <paramref name="sql"/> on one host up to its signed commit only (no rows are fetched), then cancels it:
    /// the canary probe of the trust engine. Never throws for a host failure.
    /// </summary>
    public async Task<ProbeResult> ProbeAsync(PeerEntry candidate, string sql, string jobId, CoreConfig.NodeConfig config, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var queryHash = JobIds.QueryHash(_engineVersion, sql);
        var events = Channel.CreateUnbounded<HostRun>();
        var run = new HostRun(this, candidate, NewOffer(jobId, queryHash, config), NewDispatch(jobId, queryHash, sql, config, false, []), config.Scheduler, events.Writer);
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
            return new ProbeResult(null, timedOut ? Duckton.Core.Trust.Verdict.Timeout : null, ev.Failure, sw.Elapsed.TotalMilliseconds) { Busy = ev.Busy };
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
            await Task.WhenAny(run.Recycled, Task.Delay(s_drainTimeout, CancellationToken.None)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Verdicts of one attempt: agreeing hosts Correct (unless their stream failed), disagreeing commits Incorrect,
    /// bad commits Malformed, hosts that did not commit in time Timeout. Nothing is judged without a verified quorum
    /// except Malformed and Timeout.
    /// </summary>
    private int Report(string jobId, string queryHash, List<HostRun> runs, CommitMessage? agreed, bool verifiable, bool deadlinePassed, bool shadow = false,
        IReadOnlyList<string>? quorumHosts = null)
    {
        var verdicts = new List<HostVerdict>();
        var quorum = agreed is null ? [] : quorumHosts ?? runs.Where(r => r.Commit is { } c && c.AgreesWith(agreed)).Select(r => r.Candidate.NodeId).ToList();
        foreach (var r in runs)
        {
            Duckton.Core.Trust.Verdict? v = null;
            if (r.JudgedAs is { } judged)
            {
                v = judged;
            }
            else if (r.Commit is { } c && CommitProblem(c, r, jobId, queryHash) is null)
            {
                // (A commit that arrived but was not yet checked when the quorum was reached is judged only if it is
                // valid: a malformed one must not earn a verdict from agreeing.)
                // A commit over other input (source drift) is partitioned out, not judged: the host answered its own data.
                if (agreed is not null && verifiable && (c.AgreesWith(agreed) || c.InputFingerprint.AsSpan().SequenceEqual(agreed.InputFingerprint)))
                {
                    v = c.AgreesWith(agreed) ? Duckton.Core.Trust.Verdict.Correct : Duckton.Core.Trust.Verdict.Incorrect;
                }
            }
            else if (r.Failure?.StartsWith("timed out", StringComparison.Ordinal) == true || (deadlinePassed && !r.Reported))
            {
                v = Duckton.Core.Trust.Verdict.Timeout;
            }
            if (v is { } verdict)
            {
                verdicts.Add(new HostVerdict(r.Candidate.NodeId, verdict, r.Commit?.ResultHash ?? "", r.Commit?.RowCount ?? 0, r.CommitLatencyMs, r.FetchedBytes,
                    r.Failure ?? (shadow ? "shadow replica" : null))
                {
                    Shadow = shadow,
                    Quorum = verdict is Duckton.Core.Trust.Verdict.Correct or Duckton.Core.Trust.Verdict.Incorrect ? quorum : [],
                    Contradicting = verdict == Duckton.Core.Trust.Verdict.Incorrect && r.Commit is { } own && agreed is not null && !own.AgreesWith(agreed) ? own : null,
                });
            }
        }
        if (verdicts.Count == 0)
        {
            return 0;
        }
        try
        {
            return _receipts.Issue(jobId, queryHash, verdicts);
        }
        catch (Exception e)
        {
            // The query's answer is already verified: a failing trust store must not fail it, but it must be seen.
            _logger.ReceiptsFailed(jobId, verdicts.Count, e);
            return 0;
        }
    }

    /// <summary>The certificate of an accepted answer: its agreeing commits, bound by this requester's signature to the
    /// quorum and to the hosts the attempt was dispatched to, so a third party sees what the answer was accepted under.</summary>
    private string Certify(IReadOnlyList<CommitMessage> agreeing, int replicas, int quorum, IEnumerable<HostRun> dispatched) =>
        CommitCertificate.Encode(agreeing, _identity.PublicKey.Span, replicas, quorum, [.. dispatched.Select(r => r.Candidate.NodeId).Distinct()], _identity.Sign);

    private async Task<AttemptResult> AttemptAsync(string sql, string jobId, string queryHash, CoreConfig.NodeConfig config, IReadOnlyList<PeerEntry> candidates,
        IReadOnlyList<PeerEntry> shadowCandidates, int replicas, int quorum, string? unverifiable, bool fast, byte[] inputPin, bool paid, CancellationToken cancellationToken)
    {
        var s = config.Scheduler;
        var events = Channel.CreateUnbounded<HostRun>();
        var runs = new List<HostRun>();
        var next = 0;
        var dispatch = NewDispatch(jobId, queryHash, sql, config, fast, inputPin);
        var offer = NewOffer(jobId, queryHash, config, paid);
        var verifiable = !fast && unverifiable is null;
        // Paid on chain: the escrow names the agreeing hosts, known only at the quorum, so nothing is fetched before it.
        var escrowed = paid && config.Economics.Settlement == CoreConfig.SettlementKind.Onchain;
        void Launch()
        {
            var run = new HostRun(this, candidates[next++], offer, dispatch, s, events.Writer);
            runs.Add(run);
            run.Start();
        }
        while (runs.Count < Math.Min(replicas, candidates.Count))
        {
            Launch();
        }
        Notify(jobId, GridPhase.Offers, runs.Count, 0, quorum);
        // Shadow replicas report on their own channel: the quorum loop never waits for them.
        var shadowEvents = Channel.CreateUnbounded<HostRun>();
        var shadows = shadowCandidates.Select(p => new HostRun(this, p, offer, dispatch, s, shadowEvents.Writer)).ToList();
        foreach (var shadow in shadows)
        {
            shadow.Start();
        }
        CommitMessage? judgedAgainst = null;
        IReadOnlyList<string> judgedBy = [];
        // Speculative fetch: the first committing host starts streaming (into the verifying buffer, never to the caller)
        // while the others are still executing; if its commit ends up in the quorum, its rows are already on the way.
        HostRun? speculative = null;
        Task<FetchResult>? speculation = null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s.AttemptDeadline);
        using var speculationStop = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        var commits = new List<CommitMessage>();
        var exclude = new List<string>();
        var rejected = new List<string>();
        QuorumOutcome? outcome = null;
        try
        {
            while (runs.Any(r => !r.Reported))
            {
                HostRun ev;
                try
                {
                    ev = await events.Reader.ReadAsync(deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    exclude.AddRange(runs.Where(r => r.Commit is null).Select(r => r.Candidate.NodeId));
                    return new AttemptResult(null, $"attempt deadline of {s.AttemptDeadline.TotalMilliseconds:0} ms passed before a quorum", false, exclude, rejected)
                    {
                        Receipts = Report(jobId, queryHash, runs, null, verifiable, deadlinePassed: true),
                    };
                }
                ev.Reported = true;
                if (ev.Commit is { } commit)
                {
                    var problem = CommitProblem(commit, ev, jobId, queryHash);
                    if (problem is null && EvidenceAgainst(ev.Candidate.NodeId) is { } evidence)
                    {
                        // Evidence found while this query ran (a canary in parallel): its vote no longer counts, and
                        // it is not judged again here.
                        ev.Commit = null;
                        ev.Failure = "excluded by evidence: " + evidence;
                        ev.Release();
                        exclude.Add(ev.Candidate.NodeId);
                        rejected.Add($"{ev.Candidate.NodeId}: {ev.Failure}");
                        if (next < candidates.Count)
                        {
                            Launch();
                        }
                        continue;
                    }
                    if (problem is not null)
                    {
                        ev.Commit = null;
                        ev.JudgedAs = Duckton.Core.Trust.Verdict.Malformed;
                        ev.Failure = problem;
                        ev.Release();
                        exclude.Add(ev.Candidate.NodeId);
                        rejected.Add($"{ev.Candidate.NodeId}: {problem}");
                    }
                    else
                    {
                        commits.Add(commit);
                        Notify(jobId, GridPhase.Commits, runs.Count, commits.Count, quorum);
                        outcome = QuorumEvaluator.Evaluate(commits, quorum, inputPin);
                        if (outcome.Split)
                        {
                            return new AttemptResult(null, $"quorum disagreement: two different results each reached quorum {quorum}", true, exclude, rejected);
                        }
                        if (outcome.Reached)
                        {
                            break;
                        }
                        if (speculation is null && verifiable && !escrowed && config.Scheduler.SpeculativeFetch
                            && (inputPin.Length == 0 || commit.InputFingerprint.Length == 0 || commit.InputFingerprint.AsSpan().SequenceEqual(inputPin)))
                        {
                            speculative = ev;
                            // Checked against the host's own commit: rows that do not match it are equivocation whatever the quorum says.
                            var ownSchema = BatchCodec.DecodeSchema(commit.Schema);
                            var token = speculationStop.Token;
                            speculation = Task.Run(() => ev.FetchAsync(ownSchema, commit, config, token), CancellationToken.None);
                        }
                    }
                }
                else
                {
                    if (!ev.Busy)
                    {
                        exclude.Add(ev.Candidate.NodeId);
                    }
                    if (next < candidates.Count)
                    {
                        Launch(); // hedge: keep k hosts racing
                    }
                }
            }
            if (outcome is not { Reached: true })
            {
                // The same engine error from at least q hosts (and no commit) is the query's fault, not the hosts'.
                var jobFault = runs.Where(r => r.FailureCode == JobErrorCode.Execution).GroupBy(r => r.FailureDetail).OrderByDescending(g => g.Count()).FirstOrDefault();
                if (commits.Count == 0 && jobFault is not null && jobFault.Count() >= Math.Max(quorum, 1) && jobFault.Key is { } engineError)
                {
                    return new AttemptResult(null, engineError, true, exclude, rejected);
                }
                // Every host that answered declined on price: raising the bid is the only way, so say so with the cheapest ask.
                var asks = runs.Select(r => Worker.AskedBy(r.Failure)).ToList();
                if (paid && commits.Count == 0 && asks.Count > 0 && asks.All(a => a is not null))
                {
                    var cheapest = asks.Min()!.Value;
                    return new AttemptResult(null, $"no host runs this paid job for the max bid of {PriceQuote.Describe(offer.MaxBidNanoton)} (economics.pricing.max_bid): "
                        + $"the cheapest of the {asks.Count} host(s) asked asks {PriceQuote.Describe(cheapest)}; raise it with p2p_bidding(max_bid => ...); no escrow was opened "
                        + $"({string.Join("; ", runs.Select(r => $"{Short(r.Candidate.NodeId)}: {r.Failure}"))})", true, exclude, rejected);
                }
                var best = outcome?.Agreement ?? 0;
                var disagreeing = commits.Select(c => c.HostNodeId);
                var reasons = string.Join("; ", runs.Where(r => r.Failure is not null).Select(r => $"{Short(r.Candidate.NodeId)}: {r.Failure}").Take(4));
                var reason = $"quorum not reached: best agreement {best}/{quorum}" + (reasons.Length > 0 ? $" ({reasons})" : "");
                // Disagreeing commits with no host left to break the tie: retry elsewhere, excluding everyone tried. Commits
                // that all agree but fell short only because other hosts were busy stay eligible: the next attempt may agree.
                var busy = runs.Any(r => r.Busy);
                if (!busy || commits.Select(c => c.ResultHash).Distinct(StringComparer.Ordinal).Count() > 1)
                {
                    exclude.AddRange(disagreeing);
                }
                return new AttemptResult(null, reason, false, exclude, rejected) { Receipts = Report(jobId, queryHash, runs, null, verifiable, deadlinePassed: false), Busy = busy };
            }

            // Quorum reached: cancel losers and stragglers at once, then fetch from the fastest agreeing host (the
            // speculative one first: its rows are already streaming).
            var agreed = outcome.Agreed!;
            // Only commits the loop checked (signature, identity, job): a host's commit can land on its run before the
            // loop has read it, and an unchecked one must not enter the certificate or win the fetch.
            var agreeing = runs.Where(r => r.Commit is { } c && commits.Exists(x => ReferenceEquals(x, c)) && c.AgreesWith(agreed)).OrderBy(r => r == speculative ? 0 : 1).ThenBy(r => r.CommitOrder).ToList();
            if (speculative is not null && !agreeing.Contains(speculative))
            {
                await StopSpeculationAsync().ConfigureAwait(false);
            }
            foreach (var r in runs.Except(agreeing))
            {
                r.Release();
            }
            var schema = BatchCodec.DecodeSchema(agreed.Schema);
            Notify(jobId, GridPhase.Quorum, runs.Count, commits.Count, quorum);
            Economics.PendingEscrow? escrow = null;
            if (escrowed && agreeing.Max(a => a.Commit!.ClaimedPriceNanoton) > 0)
            {
                if (FundEscrow is not { } fund)
                {
                    return new AttemptResult(null, "this paid job cannot be paid: this node has no settlement rail to fund its escrow, and hosts that charge release rows only against a funded escrow", true, exclude, rejected);
                }
                try
                {
                    // The first agreeing host is the planned winner; B covers the largest bill among them, so any of them can serve the rows.
                    escrow = await fund(new Economics.EscrowFunding(jobId, agreed.ResultHash,
                        [.. agreeing.Select(a => new Economics.EscrowPayee(a.Candidate.NodeId, a.Candidate.Advert.PublicKey, a.Commit!.ClaimedPriceNanoton))]), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is Economics.EconomicsException or Duckton.Ton.Rpc.ToncenterException or IOException or HttpRequestException)
                {
                    foreach (var r in agreeing)
                    {
                        r.Release();
                    }
                    return new AttemptResult(null, $"the paid job's escrow was not funded, so no rows were fetched: {e.Message}", true, exclude, rejected)
                    {
                        Receipts = 0,
                    };
                }
            }
            var fetchEscrow = escrow is null ? null : Economics.EscrowGate.ToWire(escrow);
            var fetchStarted = Stopwatch.GetTimestamp();
            foreach (var host in agreeing)
            {
                var fetched = host == speculative && speculation is not null
                    ? await speculation.ConfigureAwait(false)
                    : await host.FetchAsync(schema, agreed, config, deadline.Token, fetchEscrow).ConfigureAwait(false);
                if (host == speculative)
                {
                    speculation = null; // settled: nothing left to stop
                }
                if (fetched.Result is { } rows)
                {
                    foreach (var other in agreeing.Where(a => a != host))
                    {
                        other.Release();
                    }
                    var verified = verifiable;
                    var agreeingCommits = agreeing.Select(a => a.Commit!).ToList();
                    host.FetchedBytes = fetched.Bytes;
                    judgedAgainst = verifiable ? agreed : null;
                    judgedBy = [.. agreeing.Select(a => a.Candidate.NodeId)];
                    var receipts = Report(jobId, queryHash, runs, agreed, verifiable, deadlinePassed: false);
                    Notify(jobId, GridPhase.Verified, runs.Count, commits.Count, quorum, rows.RowCount);
                    return new AttemptResult(new RemoteOutcome(rows, verified, unverifiable ?? (fast ? "verify => 'fast' accepted the first commit without a quorum" : null),
                        outcome.Agreement, quorum, host.Candidate.NodeId, commits.Count, agreed.ResultHash, Certify(agreeingCommits, replicas, quorum, runs), fetched.Bytes, 0, [])
                    {
                        FetchMilliseconds = Stopwatch.GetElapsedTime(fetchStarted).TotalMilliseconds,
                        Committed = [.. runs.Where(r => r.Commit is not null).Select(r => r.Candidate.NodeId)],
                        InputFingerprint = Convert.ToHexStringLower(agreed.InputFingerprint),
                        Paid = paid,
                        WinnerClaimNanoton = host.Commit?.ClaimedPriceNanoton ?? 0,
                        WinnerPublicKey = host.Candidate.Advert.PublicKey,
                        Verifiers = [.. agreeing.Where(a => a != host).Select(a => (a.Candidate.NodeId, a.Candidate.Advert.PublicKey))],
                        Escrow = escrow,
                    }, "", false, exclude, rejected) { Receipts = receipts };
                }
                exclude.Add(host.Candidate.NodeId);
                if (fetched.TooLarge)
                {
                    // The agreed result is over a size bound: every agreeing host holds the same rows, so the query fails here,
                    // and the host that honestly committed them is not blamed (ResourceExceeded does not count against it).
                    host.JudgedAs = Duckton.Core.Trust.Verdict.ResourceExceeded;
                    foreach (var other in agreeing.Where(a => a != host))
                    {
                        other.Release();
                    }
                    return new AttemptResult(null, $"the result cannot be delivered: {fetched.Error}", true, exclude, rejected)
                    {
                        Receipts = Report(jobId, queryHash, runs, agreed, verifiable, deadlinePassed: false),
                    };
                }
                // An equivocating stream is a wrong answer; a stalled or broken one a timeout.
                host.JudgedAs = fetched.Equivocated ? Duckton.Core.Trust.Verdict.Incorrect : Duckton.Core.Trust.Verdict.Timeout;
                if (fetched.Equivocated)
                {
                    rejected.Add($"{host.Candidate.NodeId}: {fetched.Error}");
                }
            }
            if (escrow is not null)
            {
                // Funded but no rows: nothing is settled; the escrow is refunded from its deadline on (the record stays on disk).
                return new AttemptResult(null, $"every agreeing host failed to deliver its committed result ({string.Join("; ", agreeing.Select(a => $"{Short(a.Candidate.NodeId)}: {a.Failure}"))}); "
                    + $"the escrow {escrow.Escrow} is not settled and is refunded from {DateTimeOffset.FromUnixTimeSeconds(escrow.Deadline):yyyy-MM-dd HH:mm:ss} UTC", true, exclude, rejected)
                {
                    Receipts = Report(jobId, queryHash, runs, agreed, verifiable, deadlinePassed: false),
                };
            }
            return new AttemptResult(null, "every agreeing host failed to deliver its committed result", false, exclude, rejected)
            {
                Receipts = Report(jobId, queryHash, runs, agreed, verifiable, deadlinePassed: false),
            };
        }
        finally
        {
            // A speculative fetch still reading its connection must stop before the run is released (one reader per connection).
            await StopSpeculationAsync().ConfigureAwait(false);
            foreach (var r in runs)
            {
                r.Release();
            }
            // Drift partitions: valid commits left out of the quorum because they were computed over other input.
            var valid = runs.Select(r => (Run: r, Commit: r.Commit)).Where(x => x.Commit is not null && CommitProblem(x.Commit, x.Run, jobId, queryHash) is null).Select(x => x.Commit!);
            _receipts.RecordDrift(jobId, QuorumEvaluator.DriftedFrom(valid, inputPin, outcome?.Agreed));
            if (shadows.Count > 0)
            {
                _ = JudgeShadowsAsync(shadows, shadowEvents.Reader, judgedAgainst, judgedBy, jobId, queryHash, s.AttemptDeadline);
            }
        }

        async Task StopSpeculationAsync()
        {
            if (speculation is not { } pending)
            {
                return;
            }
            speculation = null;
            await speculationStop.CancelAsync().ConfigureAwait(false);
            var unused = await pending.ConfigureAwait(false);
            unused.Result?.Dispose(); // rows of a commit outside the quorum (or of an attempt that failed): never returned
        }
    }

    /// <summary>
    /// After the query returned: waits (up to <paramref name="wait"/>) for each shadow replica's commit and issues its
    /// receipt against the verified answer (Correct, Incorrect, Malformed, Timeout). Without a verified answer the
    /// shadows are cancelled unjudged.
    /// </summary>
    private async Task JudgeShadowsAsync(List<HostRun> shadows, ChannelReader<HostRun> events, CommitMessage? agreed, IReadOnlyList<string> quorumHosts, string jobId, string queryHash,
        TimeSpan wait)
    {
        try
        {
            if (agreed is null)
            {
                return;
            }
            using var bound = new CancellationTokenSource(wait);
            while (shadows.Any(r => !r.Reported))
            {
                HostRun ev;
                try
                {
                    ev = await events.ReadAsync(bound.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                ev.Reported = true;
                if (ev.Commit is { } commit && CommitProblem(commit, ev, jobId, queryHash) is { } problem)
                {
                    ev.Commit = null;
                    ev.JudgedAs = Duckton.Core.Trust.Verdict.Malformed;
                    ev.Failure = problem;
                }
                ev.Release();
            }
            Report(jobId, queryHash, shadows, agreed, verifiable: true, deadlinePassed: true, shadow: true, quorumHosts: quorumHosts);
        }
        catch (Exception e)
        {
            // Judging shadows is best effort: it must never surface in another query, but it is logged.
            _logger.ShadowJudgingFailed(jobId, e);
        }
        finally
        {
            foreach (var r in shadows)
            {
                r.Release();
            }
        }
    }

    private static string Short(string nodeId) => nodeId.Length > 11 ? nodeId[..11] : nodeId;

    private sealed record FetchResult(ResultSet? Result, long Bytes, string? Error, bool Equivocated)
    {
        /// <summary>Refused on size: every agreeing host would send the same too-large result, and none is to blame.</summary>
        public bool TooLarge { get; init; }
    }

    /// <summary>One host's pipeline in one attempt: offer, bid, dispatch, commit; then fetch or release.</summary>
    private sealed class HostRun(Coordinator owner, PeerEntry candidate, OfferMessage offer, DispatchMessage dispatch, CoreConfig.SchedulerConfig scheduler, ChannelWriter<HostRun> events)
    {
        private static int s_order;
        private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private bool _finished;
        private PeerConnection? _connection;
        private Task<Frame>? _pending;
        private bool _offered;
        private bool _dispatched;
        private int _released;

        public PeerEntry Candidate { get; } = candidate;
        public CommitMessage? Commit { get; set; }

        /// <summary>The price the host quoted in its bid (null: none, it charges nothing).</summary>
        public PriceQuote? Quote { get; private set; }

        /// <summary>What an honest host's commit claims: a paid job's bill under its quote, nothing for a free job.</summary>
        public ulong ExpectedClaim(CommitMessage commit) => dispatch.AgreedPriceNanoton is null ? 0 : (Quote ?? default).Bill(dispatch.TimeoutMs, commit.ExecMicros);
        public int CommitOrder { get; private set; }
        public string? Failure { get; set; }
        /// <summary>A verdict fixed by what happened outside the quorum (bad commit, equivocation, broken stream).</summary>
        public Duckton.Core.Trust.Verdict? JudgedAs { get; set; }
        /// <summary>Requester-measured milliseconds from starting this host to its commit.</summary>
        public double CommitLatencyMs { get; private set; }
        public long FetchedBytes { get; set; }
        public JobErrorCode? FailureCode { get; private set; }

        /// <summary>The host turned the job down for lack of room (declined at capacity, or a Busy error): worth asking
        /// again after a backoff, not a fault to exclude it for.</summary>
        public bool Busy => FailureCode == JobErrorCode.Busy
            || Failure?.StartsWith("declined: at capacity", StringComparison.Ordinal) == true
            || Failure?.Contains("(worker.max_jobs_per_peer)", StringComparison.Ordinal) == true
            || Failure?.Contains("(worker.max_pending_offers", StringComparison.Ordinal) == true;
        public string? FailureDetail { get; private set; }
        public bool Reported { get; set; }

        /// <summary>Runs up to the first wait on the caller's thread (renting a pooled connection and sending the offer), no thread hop.</summary>
        public void Start() => _ = RunAsync();

        private async Task RunAsync()
        {
            var sw = Stopwatch.StartNew();
            try
            {
                using var connectTimeout = new CancellationTokenSource(scheduler.OfferTimeout);
                _connection = await owner._pool.RentAsync(Candidate.Address, Candidate.NodeId, connectTimeout.Token).ConfigureAwait(false);
                if (_stop.Task.IsCompleted)
                {
                    owner._pool.Return(_connection);
                    _connection = null;
                    throw new OperationCanceledException();
                }
                var rtt = Stopwatch.StartNew();
                await _connection.SendAsync(MessageType.Offer, offer.Encode()).ConfigureAwait(false);
                _offered = true;
                var reply = await Next(scheduler.OfferTimeout).ConfigureAwait(false);
                owner._membership.ObserveContact(Candidate.NodeId, rtt.Elapsed.TotalMilliseconds);
                if (reply.Type == MessageType.Decline)
                {
                    _offered = false;
                    throw new HostFailure("declined: " + ReasonMessage.Decode(reply.Payload.Span).Reason);
                }
                var bid = reply.Type == MessageType.Bid ? BidMessage.Decode(reply.Payload.Span) : null;
                if (bid is null || bid.JobId != offer.JobId)
                {
                    throw new HostFailure($"expected a Bid, got {reply.Type}");
                }
                if (owner.CheckBid(Candidate, offer.Nonce, bid) is { } attestationProblem)
                {
                    _offered = false;
                    throw new HostFailure("attestation: " + attestationProblem);
                }
                _offered = false;
                Quote = bid.Quote;
                if (offer.Paid)
                {
                    // The host's price for this job's time bound must fit the bid; it is what the dispatch agrees to pay.
                    var price = (bid.Quote ?? default).JobCap(dispatch.TimeoutMs);
                    if (price > offer.MaxBidNanoton)
                    {
                        throw new HostFailure($"price: the host quotes {bid.Quote}, {PriceQuote.Describe(price)} for this job, above the max bid of {PriceQuote.Describe(offer.MaxBidNanoton)} (economics.pricing.max_bid)" + Worker.AsksSuffix(price));
                    }
                    dispatch = dispatch with { AgreedPriceNanoton = price };
                }
                await _connection.SendAsync(MessageType.Dispatch, dispatch.Encode()).ConfigureAwait(false);
                _dispatched = true;
                var answer = await Next(scheduler.DispatchTimeout).ConfigureAwait(false);
                switch (answer.Type)
                {
                    case MessageType.Commit:
                        Commit = CommitMessage.Decode(answer.Payload.Span);
                        CommitLatencyMs = sw.Elapsed.TotalMilliseconds;
                        CommitOrder = Interlocked.Increment(ref s_order);
                        break;
                    case MessageType.Error:
                        _dispatched = false;
                        var error = ErrorMessage.Decode(answer.Payload.Span);
                        FailureCode = error.Code;
                        FailureDetail = error.Message;
                        throw new HostFailure($"{error.Code}: {error.Message}");
                    case MessageType.End:
                        _dispatched = false;
                        throw new HostFailure("the host cancelled the job");
                    default:
                        throw new HostFailure($"expected a Commit, got {answer.Type}");
                }
            }
            catch (Exception e)
            {
                Failure = e switch
                {
                    HostFailure h => h.Message,
                    OperationCanceledException when _stop.Task.IsCompleted => "cancelled",
                    OperationCanceledException or TimeoutException => $"timed out after {sw.ElapsedMilliseconds} ms",
                    PeerRejectedException r => $"handshake rejected: {r.Reason}",
                    _ => e.Message,
                };
                if (e is not HostFailure && !_stop.Task.IsCompleted)
                {
                    owner._membership.ObserveFailure(Candidate.NodeId);
                }
                events.TryWrite(this);
                Recycle();
                return;
            }
            // Committed. If the attempt already moved on (quorum reached without us), nobody will read this event:
            // release the held result ourselves.
            Volatile.Write(ref _finished, true);
            events.TryWrite(this);
            if (_stop.Task.IsCompleted)
            {
                Recycle();
            }
        }

        /// <summary>The next frame within <paramref name="timeout"/>; a stop request cancels the wait (the read stays pending).</summary>
        private async Task<Frame> Next(TimeSpan timeout)
        {
            _pending ??= _connection!.ReceiveAsync().AsTask();
            if (_pending.IsCompleted)
            {
                var ready = await _pending.ConfigureAwait(false);
                _pending = null;
                return ready;
            }
            // The timer is cancelled as soon as the wait ends: a stalled host must not leave timers behind per query.
            using var timer = new CancellationTokenSource();
            var delay = Task.Delay(timeout, timer.Token);
            var winner = await Task.WhenAny(_pending, delay, _stop.Task).ConfigureAwait(false);
            await timer.CancelAsync().ConfigureAwait(false);
            if (winner == _pending)
            {
                var frame = await _pending.ConfigureAwait(false);
                _pending = null;
                return frame;
            }
            if (winner == _stop.Task)
            {
                throw new OperationCanceledException();
            }
            var c = _connection;
            _connection = null;
            if (c is not null)
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
            throw new TimeoutException();
        }

        /// <summary>Cancels this host's job (if any) and recycles the connection in the background.</summary>
        public void Release()
        {
            _stop.TrySetResult();
            if (Reported || Volatile.Read(ref _finished))
            {
                Recycle();
            }
        }

        /// <summary>Completes when the connection went back to the pool (or was closed) after <see cref="Release"/>.</summary>
        public Task Recycled => _recycled.Task;

        private readonly TaskCompletionSource _recycled = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private void Recycle()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
            {
                return;
            }
            var c = _connection;
            _connection = null;
            if (c is null)
            {
                _recycled.TrySetResult();
                return;
            }
            _ = Task.Run(async () =>
            {
                try
                {
                    if (_dispatched)
                    {
                        await c.SendAsync(MessageType.Cancel, new ReasonMessage(dispatch.JobId, "lost race").Encode()).ConfigureAwait(false);
                    }
                    var until = Stopwatch.StartNew();
                    while (_dispatched || _offered || _pending is not null)
                    {
                        _pending ??= c.ReceiveAsync().AsTask();
                        var left = s_drainTimeout - until.Elapsed;
                        if (left <= TimeSpan.Zero || await Task.WhenAny(_pending, Task.Delay(left)).ConfigureAwait(false) != _pending)
                        {
                            await c.DisposeAsync().ConfigureAwait(false);
                            return;
                        }
                        var f = await _pending.ConfigureAwait(false);
                        _pending = null;
                        if (f.Type is MessageType.Bid or MessageType.Decline)
                        {
                            _offered = false;
                        }
                        if (f.Type is MessageType.End or MessageType.Error && JobFrames.JobIdOf(f.Payload.Span) == dispatch.JobId)
                        {
                            _dispatched = false;
                        }
                    }
                    owner._pool.Return(c);
                }
                catch (Exception)
                {
                    await c.DisposeAsync().ConfigureAwait(false);
                }
                finally
                {
                    _recycled.TrySetResult();
                }
            });
        }

        /// <summary>
        /// Fetches the committed rows; they are returned only when they re-hash to <paramref name="agreed"/>. Pipelined: this task
        /// reads frames (pooled buffers) and grants credit, a second task decodes them and feeds the hasher; a bounded channel
        /// between them caps memory in flight (when it is full, no credit is granted and the host pauses).
        /// </summary>
        public async Task<FetchResult> FetchAsync(ResultSchema schema, CommitMessage agreed, CoreConfig.NodeConfig config, CancellationToken cancellationToken, FetchEscrow? escrow = null)
        {
            var c = _connection;
            if (c is null)
            {
                return new FetchResult(null, 0, "no connection", false);
            }
            var stall = scheduler.ProgressInterval * scheduler.ProgressStallMultiplier;
            if (stall <= TimeSpan.Zero)
            {
                stall = scheduler.DispatchTimeout;
            }
            var maxBytes = config.Transport.Result.MaxResultBytes;
            var frames = Channel.CreateBounded<LeasedFrame>(new BoundedChannelOptions(InitialCredit) { SingleReader = true, SingleWriter = true });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var spool = new SpooledBatches(schema, config.Transport.Result.MaxBufferBytes, owner.SpillDirectory ?? Path.GetTempPath());
            // No Task.Run: the decoder's first await (for a frame) yields at once; it then runs on the channel's continuations.
            var decoder = DecodeAsync(frames.Reader, schema, agreed, spool, stop);
            var delivered = false;
            try
            {
                await c.SendAsync(MessageType.Fetch, new FetchMessage(dispatch.JobId, InitialCredit) { Escrow = escrow }.Encode(), cancellationToken).ConfigureAwait(false);
                long bytes = 0;
                var consumed = 0;
                uint expectedSeq = 0;
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (decoder.IsCompleted)
                    {
                        break; // the decoder stopped early (equivocation or a bad batch): its result says why
                    }
                    var frame = await NextLeased(stall, stop.Token).ConfigureAwait(false);
                    if (frame is null)
                    {
                        break; // decoder stopped
                    }
                    if (frame.Type == MessageType.Batch)
                    {
                        var seq = PeekBatchHeader(frame.Payload.Span, out var job);
                        if (job != dispatch.JobId || seq != expectedSeq++)
                        {
                            frame.Dispose();
                            throw new HostFailure("batch frame out of sequence");
                        }
                        bytes += frame.Payload.Length;
                        if (bytes > maxBytes)
                        {
                            frame.Dispose();
                            throw new HostFailure($"the result is over {Worker.Size(maxBytes)}, this requester's limit (transport.result.max_result_bytes)") { TooLarge = true };
                        }
                        try
                        {
                            await frames.Writer.WriteAsync(frame, stop.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            frame.Dispose();
                            break;
                        }
                        if (++consumed == InitialCredit / 2)
                        {
                            consumed = 0;
                            await c.SendAsync(MessageType.Fetch, new FetchMessage(dispatch.JobId, InitialCredit / 2).Encode(), cancellationToken).ConfigureAwait(false);
                        }
                        continue;
                    }
                    using (frame)
                    {
                        if (frame.Type == MessageType.End)
                        {
                            var end = EndMessage.Decode(frame.Payload.Span);
                            if (end.JobId != dispatch.JobId || end.Status != EndStatus.Complete)
                            {
                                throw new HostFailure("the host ended the stream without completing it");
                            }
                            _dispatched = false;
                            frames.Writer.TryComplete();
                            var decoded = await decoder.ConfigureAwait(false);
                            if (decoded.Error is { } bad)
                            {
                                return await Fail(bad, decoded.Equivocated).ConfigureAwait(false);
                            }
                            var digest = decoded.Digest!;
                            if ((ulong)decoded.Rows != agreed.RowCount || digest != agreed.ResultHash)
                            {
                                return await Fail($"equivocation: committed {agreed.ResultHash[..12]}… ({agreed.RowCount} rows) but streamed rows hashing to {digest[..12]}… ({decoded.Rows} rows)", true).ConfigureAwait(false);
                            }
                            _connection = null;
                            owner._pool.Return(c);
                            Interlocked.Exchange(ref _released, 1);
                            // Every row re-hashed to the agreed hash: only now may the caller read them (from memory or the spill file).
                            delivered = true;
                            return new FetchResult(new ResultSet(schema, spool, decoded.Rows), bytes, null, false);
                        }
                        if (frame.Type == MessageType.Error)
                        {
                            _dispatched = false;
                            var error = ErrorMessage.Decode(frame.Payload.Span);
                            throw new HostFailure(error.Message) { TooLarge = error.Code == JobErrorCode.ResultTooLarge };
                        }
                        throw new HostFailure($"unexpected {frame.Type} frame while streaming");
                    }
                }
                // The decoder stopped before the End frame.
                frames.Writer.TryComplete();
                var early = await decoder.ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                return await Fail(early.Error ?? "the result stream stopped early", early.Equivocated).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HostFailure or ProtocolException or CodecException or IOException or TimeoutException or EndOfStreamException or OperationCanceledException or InvalidDataException)
            {
                var why = e is TimeoutException ? $"stalled mid-stream (no frame for {stall.TotalMilliseconds:0} ms)" : e.Message;
                await stop.CancelAsync().ConfigureAwait(false);
                frames.Writer.TryComplete();
                await ((Task)decoder).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return (await Fail(why, false).ConfigureAwait(false)) with { TooLarge = e is HostFailure { TooLarge: true } };
            }
            finally
            {
                if (!delivered)
                {
                    // Failed, equivocated, cancelled or threw: the spilled rows were never verified; delete them now.
                    await stop.CancelAsync().ConfigureAwait(false);
                    frames.Writer.TryComplete();
                    await ((Task)decoder).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    spool.Dispose();
                }
            }

            async Task<FetchResult> Fail(string why, bool equivocated)
            {
                Failure = why;
                await DropConnection().ConfigureAwait(false);
                return new FetchResult(null, 0, why, equivocated);
            }
        }

        private sealed record Decoded(long Rows, string? Digest, string? Error, bool Equivocated);

        /// <summary>
        /// The decode side of the fetch pipeline; decoded batches go to a third task that feeds the hasher (bounded channel), so
        /// reading, decoding and hashing overlap. Stops (and cancels the reader) at the first bad batch.
        /// </summary>
        /// <summary>Results of at most this many committed rows are hashed on the decoding task itself.</summary>
        private const ulong InlineHashRows = 16_384;

        private async Task<Decoded> DecodeAsync(ChannelReader<LeasedFrame> frames, ResultSchema schema, CommitMessage agreed, SpooledBatches batches, CancellationTokenSource stop)
        {
            var limits = CodecLimits.Default;
            var toHash = Channel.CreateBounded<ResultBatch>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
            // A small result is hashed right here: a separate hashing task only pays off when there is work to overlap.
            var direct = agreed.RowCount <= InlineHashRows ? new CanonicalResultHasher(schema) : null;
            var hashing = direct is not null ? Task.FromResult("") : Task.Run(async () =>
            {
                try
                {
                    var hasher = new CanonicalResultHasher(schema);
                    while (await toHash.Reader.WaitToReadAsync().ConfigureAwait(false))
                    {
                        while (toHash.Reader.TryRead(out var batch))
                        {
                            hasher.Add(batch);
                        }
                    }
                    return hasher.Finish().ToString();
                }
                catch (Exception e)
                {
                    toHash.Writer.TryComplete(e); // the decoder's next write fails instead of waiting for room forever
                    throw;
                }
            }, CancellationToken.None);
            long rows = 0;
            try
            {
                while (await frames.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    while (frames.TryRead(out var frame))
                    {
                        using (frame)
                        {
                            var (_, _, parts) = BatchFrame.Decode(frame.Payload, owner.MaxFrameBytes);
                            foreach (var part in parts)
                            {
                                var batch = BatchCodec.DecodeBatch(part.Span, schema, limits);
                                rows += batch.RowCount;
                                if ((ulong)rows > agreed.RowCount)
                                {
                                    await stop.CancelAsync().ConfigureAwait(false);
                                    Drain(frames);
                                    toHash.Writer.TryComplete();
                                    await ((Task)hashing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                                    return new Decoded(rows, null, $"streamed more rows than the committed {agreed.RowCount}", true);
                                }
                                if (direct is not null)
                                {
                                    direct.Add(batch);
                                }
                                else
                                {
                                    await toHash.Writer.WriteAsync(batch).ConfigureAwait(false);
                                }
                                // Beyond transport.result.max_buffer_bytes the wire bytes go to the spill file instead of memory.
                                batches.Add(batch, part.Span);
                            }
                        }
                    }
                }
                toHash.Writer.TryComplete();
                return new Decoded(rows, direct is not null ? direct.Finish().ToString() : await hashing.ConfigureAwait(false), null, false);
            }
            catch (Exception e) when (e is ProtocolException or CodecException or InvalidDataException or ArgumentException or ChannelClosedException or IOException)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                Drain(frames);
                toHash.Writer.TryComplete();
                await ((Task)hashing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                return new Decoded(rows, null, e is ChannelClosedException { InnerException: { } inner } ? inner.Message
                    : e is IOException ? "cannot spill the result to disk: " + e.Message : e.Message, false);
            }

            static void Drain(ChannelReader<LeasedFrame> frames)
            {
                while (frames.TryRead(out var f))
                {
                    f.Dispose();
                }
            }
        }

        /// <summary>The job id and sequence number of a Batch payload (the batches themselves are split by the decoder).</summary>
        private static uint PeekBatchHeader(ReadOnlySpan<byte> payload, out string jobId)
        {
            if (payload.Length < 22)
            {
                throw new ProtocolException("truncated batch frame");
            }
            jobId = Convert.ToHexStringLower(payload[..16]);
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(payload[16..]);
        }

        /// <summary>The next frame (pooled buffer) within <paramref name="timeout"/>; null when <paramref name="stopToken"/> fires first.</summary>
        private async Task<LeasedFrame?> NextLeased(TimeSpan timeout, CancellationToken stopToken)
        {
            if (_pending is not null)
            {
                throw new HostFailure("internal: a control read is still outstanding on the fetch connection");
            }
            var read = _connection!.ReceiveLeasedAsync(CancellationToken.None);
            if (read.IsCompletedSuccessfully)
            {
                return read.Result;
            }
            var pending = read.AsTask();
            try
            {
                return await pending.WaitAsync(timeout, stopToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && stopToken.IsCancellationRequested))
            {
                // Timed out or stopped with the read outstanding: the connection is unusable; dispose it (the read then fails), and
                // return the buffer should the frame still arrive.
                _ = pending.ContinueWith(static t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Dispose();
                    }
                    else
                    {
                        _ = t.Exception;
                    }
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                await DropConnection().ConfigureAwait(false);
                if (e is OperationCanceledException)
                {
                    return null;
                }
                throw;
            }
        }

        private async Task DropConnection()
        {
            Interlocked.Exchange(ref _released, 1);
            var c = _connection;
            _connection = null;
            if (c is not null)
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed class HostFailure(string message) : Exception(message)
    {
        /// <summary>The result is over a size bound (the host's frame limit or this requester's result limit): no fault of the host.</summary>
        public bool TooLarge { get; init; }
    }
}
