using System.Diagnostics;
using System.Threading.Channels;
using Duckton.Core.Data;
using Duckton.Core.Protocol;
using CoreConfig = Duckton.Core.Configuration;

namespace Duckton.Node.Grid;

// The coordinator, part: one attempt (offers, dispatch, commits, quorum, fetch), shadows, and the report and certificate of a job.
public sealed partial class Coordinator
{
    private sealed record AttemptResult(RemoteOutcome? Outcome, string Reason, bool Terminal, IReadOnlyList<string> Exclude, IReadOnlyList<string> Rejected)
    {
        public int Receipts { get; set; }

        /// <summary>Some host was busy: a retry may succeed with the same hosts.</summary>
        public bool Busy { get; init; }
    }

    /// <summary>A free job asks for its rows with the commit when they are small (no Fetch round trip); a paid job never does.</summary>
    private static DispatchMessage NewDispatch(string jobId, string queryHash, string sql, CoreConfig.NodeConfig config, bool fast, byte[] inputPin, bool paid) =>
        new(jobId, queryHash, sql, (ulong)config.Budget.PerJobMemoryBytes, (uint)config.Budget.PerJobThreads,
            (uint)Math.Min(uint.MaxValue, config.Scheduler.DispatchTimeout.TotalMilliseconds), fast ? (byte)1 : (byte)0, inputPin)
        {
            InlineLimit = paid ? 0 : (uint)ProtoLimits.MaxInlineRowBytes,
        };

    private static OfferMessage NewOffer(string jobId, string queryHash, CoreConfig.NodeConfig config, bool paid = false) =>
        new(jobId, queryHash, WireDataClass.Public, (ulong)Random.Shared.NextInt64(), (ulong)config.Budget.PerJobMemoryBytes, (uint)config.Budget.PerJobThreads, "", [], [])
        {
            Paid = paid,
            MaxBidNanoton = paid ? Economics.Pricing.MaxBidNanoton(config) : 0,
        };

    /// <summary>
    /// Why a commit is not acceptable for this job, or null (a signed claim of another price than quoted included). Checked
    /// once per commit: the quorum loop, the verdicts and the drift count ask again about the same commit, and an Ed25519
    /// check is the costliest part of a small query's bookkeeping.
    /// </summary>
    private string? CommitProblem(CommitMessage commit, HostRun run, string jobId, string queryHash)
    {
        if (run.CommitCheck is { } done && ReferenceEquals(done.Commit, commit))
        {
            return done.Problem;
        }
        var problem = CheckCommit(commit, run, jobId, queryHash);
        run.CommitCheck = new CheckedCommit(commit, problem);
        return problem;
    }

    private sealed record CheckedCommit(CommitMessage Commit, string? Problem);

    private string? CheckCommit(CommitMessage commit, HostRun run, string jobId, string queryHash) =>
        commit.HostNodeId != run.Candidate.NodeId ? "commit signed by another identity"
        : commit.JobId != jobId || commit.QueryHash != queryHash || commit.RequesterNodeId != _identity.NodeId ? "commit for another job"
        : !commit.VerifySignature() ? "commit signature does not verify"
        : run.ExpectedClaim(commit) is var expected && commit.ClaimedPriceNanoton != expected
            ? $"price mismatch: the host quoted {(run.Quote is { } q ? q.ToString() : "nothing (free)")}, which bills {PriceQuote.Describe(expected)} for this job, but its signed commit claims {PriceQuote.Describe(commit.ClaimedPriceNanoton)}"
        : null;

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

    /// <summary>What every attempt of one query shares: fixed before the first attempt, the same for each re-dispatch.</summary>
    private sealed record AttemptPlan(string Sql, string JobId, string QueryHash, CoreConfig.NodeConfig Config, int Replicas, int Quorum, string? Unverifiable,
        bool Fast, byte[] InputPin, bool Paid);

    private async Task<AttemptResult> AttemptAsync(AttemptPlan plan, IReadOnlyList<PeerEntry> candidates, IReadOnlyList<PeerEntry> shadowCandidates,
        CancellationToken cancellationToken)
    {
        var (sql, jobId, queryHash, config, replicas, quorum, unverifiable, fast, inputPin, paid) = plan;
        var s = config.Scheduler;
        var events = Channel.CreateUnbounded<HostRun>();
        var runs = new List<HostRun>();
        var next = 0;
        var dispatch = NewDispatch(jobId, queryHash, sql, config, fast, inputPin, paid);
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
        // Shadows get the very same dispatch (inline rows asked for included): a host must not be able to tell that its answer is not counted.
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
                    if (ev.Violated)
                    {
                        // Rows it was not allowed to send: a broken protocol, judged like a bad commit.
                        ev.JudgedAs = Duckton.Core.Trust.Verdict.Malformed;
                        rejected.Add($"{ev.Candidate.NodeId}: {ev.Failure}");
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
                        QueryHash = queryHash,
                        FetchMilliseconds = Stopwatch.GetElapsedTime(fetchStarted).TotalMilliseconds,
                        RowsWithCommit = host.RowsCameWithCommit,
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
                // An equivocating stream is a wrong answer, one that breaks the protocol malformed; a stalled or broken one a timeout.
                host.JudgedAs = fetched.Equivocated ? Duckton.Core.Trust.Verdict.Incorrect
                    : fetched.Violation ? Duckton.Core.Trust.Verdict.Malformed : Duckton.Core.Trust.Verdict.Timeout;
                host.Failure = $"fetch: {fetched.Error}";
                if (fetched.Equivocated || fetched.Violation)
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
            return new AttemptResult(null, $"every agreeing host failed to deliver its committed result ({string.Join("; ", agreeing.Select(a => $"{Short(a.Candidate.NodeId)}: {a.Failure}"))})", false, exclude, rejected)
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
}
