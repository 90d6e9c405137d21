using System.Globalization;
using Duckton.Core.Configuration;
using Duckton.Core.Trust;
using Duckton.Node.Grid;

namespace Duckton.Node.Trust;

// The trust engine, part: canary vetting of newcomers and audit canaries in normal traffic.
public sealed partial class TrustEngine
{
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
}
