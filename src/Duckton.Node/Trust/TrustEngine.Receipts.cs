using System.Collections.Concurrent;
using Duckton.Core.Configuration;
using Duckton.Core.Trust;
using Duckton.Node.Grid;

namespace Duckton.Node.Trust;

// The trust engine, part: signed receipts for every verdict, and objective evidence against hosts.
public sealed partial class TrustEngine
{
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
            if (!Store.AddReceipt(receipt, alreadyChecked: true))
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
}
