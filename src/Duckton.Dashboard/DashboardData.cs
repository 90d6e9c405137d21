using System.Globalization;
using System.Text.Json.Nodes;
using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.Node;
using Duckton.Node.Trust;
using Duckton.Sql;

namespace Duckton.Dashboard;

/// <summary>
/// Builds the dashboard's JSON from the node's trust store and engine — through <see cref="TrustView"/>, the same rows
/// <c>p2p_peers()</c> and <c>p2p_trust_terms()</c> return — so no number on the page has a formula of its own here.
/// Only public facts leave: ids, names, terms, verdicts, hashes and signature prefixes; never a key, token or secret.
/// </summary>
public sealed class DashboardData
{
    /// <summary>Receipts in the page's table (the newest).</summary>
    public const int ReceiptRows = 50;
    /// <summary>Most Correct receipts whose latency feeds the histogram (the newest).</summary>
    public const int LatencySamples = 2000;

    private readonly NodeHost _host;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private long _receiptCountSeen = -1;
    private IReadOnlyList<Receipt> _allReceipts = [];
    private (DateTimeOffset At, JsonObject Demo)? _orderDemo;

    public DashboardData(NodeHost host, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(time);
        _host = host;
        _time = time;
    }

    /// <summary>Every receipt held, newest first; re-read only when the store's count changed (a cheap query).</summary>
    private IReadOnlyList<Receipt> Receipts()
    {
        var store = _host.Trust;
        var count = store.ReceiptCount();
        lock (_gate)
        {
            if (count != _receiptCountSeen)
            {
                _allReceipts = store.Receipts(null, int.MaxValue);
                _receiptCountSeen = count;
            }
            return _allReceipts;
        }
    }

    /// <summary>The whole page's state: one consistent snapshot (every endpoint is a slice of it).</summary>
    public JsonObject Snapshot()
    {
        var node = _host.Node;
        var c = _host.Config.Effective().Config;
        var peers = TrustView.Peers(node, _host.Trust, c);
        var receipts = Receipts();
        var now = _time.GetUtcNow();
        var perWorker = receipts.GroupBy(r => r.WorkerId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (Correct: g.Count(r => r.Verdict == Verdict.Correct), Faults: g.Count(r => r.Verdict != Verdict.Correct)), StringComparer.Ordinal);
        var correct = receipts.Count(r => r.Verdict == Verdict.Correct);
        var flagged = peers.Where(p => p.Flagged).ToList();
        var ttl = c.Discovery.Gossip.CapabilityTtl;

        var peerRows = new JsonArray();
        foreach (var p in peers)
        {
            perWorker.TryGetValue(p.NodeId, out var counts);
            peerRows.Add(PeerJson(p, counts, PeerStates.Of(p, now, ttl)));
        }
        var top = peers.Where(p => !p.Flagged).OrderByDescending(p => p.Trust.Effective).ThenBy(p => p.NodeId, StringComparer.Ordinal).FirstOrDefault();
        var penalised = peers.Where(p => p.Flagged).OrderByDescending(p => p.Trust.Penalties).ThenBy(p => p.NodeId, StringComparer.Ordinal).FirstOrDefault();
        return new JsonObject
        {
            ["node"] = new JsonObject { ["node_id"] = node.NodeId, ["name"] = PeerNames.Of(node.NodeId) },
            ["summary"] = new JsonObject
            {
                ["workers"] = peers.Count,
                // The mean of p2p_peers().trust over every known worker; null when there is none.
                ["avg_trust"] = peers.Count == 0 ? null : peers.Average(p => p.Trust.Effective),
                ["l2_hosts"] = peers.Count(p => p.Attestation == AttestationLevel.L2),
                ["receipts"] = receipts.Count,
                ["correct"] = correct,
                ["correct_rate"] = receipts.Count == 0 ? null : (double)correct / receipts.Count,
                ["flagged"] = flagged.Count,
            },
            ["formula"] = Formula(c),
            ["worked_example"] = top is null ? null : Worked(top, c),
            ["attestation"] = Attestation(node, peers),
            ["selection"] = Selection(c),
            ["verification"] = Verification(node, c, receipts),
            ["peers"] = peerRows,
            ["receipts"] = new JsonArray([.. receipts.Take(ReceiptRows).Select(ReceiptJson)]),
            ["flagged"] = new JsonArray([.. flagged.Select(p =>
            {
                perWorker.TryGetValue(p.NodeId, out var counts);
                return (JsonNode)new JsonObject
                {
                    ["node_id"] = p.NodeId,
                    ["name"] = p.Name,
                    ["behaviour"] = p.FlagReason ?? (p.Trust.Penalties > 0 ? "penalised for wrong answers" : "flagged"),
                    ["correct"] = counts.Correct,
                    ["faults"] = counts.Faults,
                    ["reputation"] = p.Trust.Reputation,
                    ["trust"] = p.Trust.Effective,
                };
            })]),
            ["radar"] = new JsonObject { ["top"] = top is null ? null : Terms(top), ["penalised"] = penalised is null ? null : Terms(penalised) },
            ["latency_ms"] = new JsonArray([.. receipts.Where(r => r.Verdict == Verdict.Correct).Take(LatencySamples).Select(r => (JsonNode)(double)r.LatencyMs)]),
        };
    }

    private static JsonObject PeerJson(PeerTrustView p, (int Correct, int Faults) counts, string state) => new()
    {
        ["node_id"] = p.NodeId,
        ["name"] = p.Name,
        ["addr"] = p.Live?.Address ?? p.Stored?.Address,
        ["state"] = state,
        ["standing"] = p.Standing?.ToString().ToLowerInvariant(),
        ["attestation"] = p.Attestation.ToString(),
        ["attestation_note"] = p.AttestationNote,
        ["trust"] = p.Trust.Effective,
        ["reputation"] = p.Trust.Reputation,
        ["observations"] = p.Observations,
        ["age_factor"] = p.Trust.Age,
        ["voucher"] = p.Trust.Voucher,
        ["stake_factor"] = p.Trust.Stake,
        ["penalty"] = p.Trust.Penalties,
        ["soft_score"] = p.Trust.Soft,
        ["exploration_bonus"] = p.Trust.Exploration,
        ["attestation_gate"] = p.Trust.Gate,
        ["selection_score"] = p.Selection,
        ["flagged"] = p.Flagged,
        ["vetted"] = p.Vetted,
        ["correct"] = counts.Correct,
        ["faults"] = counts.Faults,
    };

    private static JsonObject Terms(PeerTrustView p) => new()
    {
        ["node_id"] = p.NodeId,
        ["name"] = p.Name,
        ["reputation"] = p.Trust.Reputation,
        ["age_factor"] = p.Trust.Age,
        ["voucher"] = p.Trust.Voucher,
        ["stake_factor"] = p.Trust.Stake,
        ["penalty"] = p.Trust.Penalties,
        ["effective_trust"] = p.Trust.Effective,
    };

    private static JsonObject ReceiptJson(Receipt r) => new()
    {
        ["job_id"] = r.JobId,
        ["worker_id"] = r.WorkerId,
        ["worker_name"] = PeerNames.Of(r.WorkerId),
        ["verdict"] = r.Verdict.ToString(),
        // A fault is any verdict but Correct; which one it was is the verdict.
        ["fault"] = r.Verdict != Verdict.Correct,
        ["latency_ms"] = r.LatencyMs,
        ["signature_prefix"] = Convert.ToHexStringLower(r.Signature.AsSpan(0, Math.Min(8, r.Signature.Length))),
        ["ts"] = DateTimeOffset.FromUnixTimeSeconds((long)Math.Min(r.Timestamp, (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds())).ToString("O", CultureInfo.InvariantCulture),
    };

    private static JsonObject Formula(NodeConfig c)
    {
        var w = TrustEngine.PolicyFor(c);
        return new JsonObject
        {
            ["alpha"] = w.Weights.Alpha,
            ["beta"] = w.Weights.Beta,
            ["gamma"] = w.Weights.Gamma,
            ["delta"] = w.Weights.Delta,
            ["min_trust"] = c.Trust.MinTrust,
            ["min_attestation"] = c.Trust.MinAttestation.ToString(),
            ["bootstrap_trust"] = c.Trust.BootstrapTrust,
            ["half_life_days"] = c.Trust.ReputationHalfLife.TotalDays,
            ["age_saturation"] = w.AgeSaturation,
            ["exploration_rate"] = w.ExplorationRate,
            ["incorrect_penalty"] = c.Trust.IncorrectPenalty,
            ["newcomer_trust_ceiling"] = c.Economics.Ranking.NewcomerTrustCeiling,
            ["text"] = "effective = gate(level ≥ min_attestation) · clamp(α·R + β·age + γ·voucher + δ·stake − penalty, 0, 1) + exploration",
        };
    }

    /// <summary>Each term × its weight for one host, with the engine's own soft score, gate and result.</summary>
    private static JsonObject Worked(PeerTrustView p, NodeConfig c)
    {
        var w = TrustEngine.PolicyFor(c).Weights;
        var t = p.Trust;
        JsonObject Term(string name, double value, double weight) => new() { ["term"] = name, ["value"] = value, ["weight"] = weight, ["product"] = value * weight };
        return new JsonObject
        {
            ["node_id"] = p.NodeId,
            ["name"] = p.Name,
            ["observations"] = p.Observations,
            ["terms"] = new JsonArray(Term("reputation R", t.Reputation, w.Alpha), Term("age", t.Age, w.Beta), Term("voucher", t.Voucher, w.Gamma), Term("stake", t.Stake, w.Delta)),
            ["penalty"] = t.Penalties,
            ["soft_score"] = t.Soft,
            ["exploration_bonus"] = t.Exploration,
            ["attestation"] = p.Attestation.ToString(),
            ["attestation_gate"] = t.Gate,
            ["effective_trust"] = t.Effective,
        };
    }

    private static JsonObject Attestation(GridNode node, IReadOnlyList<PeerTrustView> peers)
    {
        var verifier = node.Trust.VerifierDescription();
        var tiers = new JsonArray();
        foreach (var level in new[] { AttestationLevel.L0, AttestationLevel.L1, AttestationLevel.L2 })
        {
            var at = peers.Where(p => p.Attestation == level).ToList();
            tiers.Add(new JsonObject
            {
                ["level"] = level.ToString(),
                ["hosts"] = at.Count,
                ["meaning"] = level switch
                {
                    AttestationLevel.L0 => "no verified evidence (software only)",
                    AttestationLevel.L1 => "evidence bound to the offer's nonce, verified against an allowlisted measurement",
                    _ => "hardware-rooted evidence bound to the offer's nonce, verified against an allowlisted measurement",
                },
                ["evidence"] = new JsonArray([.. at.Where(p => p.AttestationNote is not null).Select(p => (JsonNode)$"{p.Name}: {p.AttestationNote}")]),
            });
        }
        return new JsonObject
        {
            ["verifier"] = verifier,
            ["simulated"] = verifier.Contains("SIMULATED", StringComparison.Ordinal),
            ["tiers"] = tiers,
        };
    }

    private static JsonObject Selection(NodeConfig c)
    {
        var w = TrustEngine.WeightsFor(c);
        var classes = new JsonArray();
        foreach (var dc in new[] { DataClass.Public, DataClass.Internal, DataClass.Sensitive })
        {
            var (minTrust, minLevel) = TrustEngine.Floors(c, new QueryOverrides { DataClass = dc });
            classes.Add(new JsonObject
            {
                ["class"] = dc.ToString().ToLowerInvariant(),
                ["min_trust"] = minTrust,
                ["min_attestation"] = minLevel.ToString(),
                ["replicas"] = c.Scheduler.Replicas,
                ["quorum"] = c.Scheduler.Quorum,
            });
        }
        return new JsonObject
        {
            ["weights"] = new JsonObject
            {
                ["quality"] = w.Quality,
                ["stake"] = w.Stake,
                ["price"] = w.Price,
                ["latency"] = w.Latency,
                ["throughput"] = w.Throughput,
                ["capability"] = w.Capability, // what selection uses (0: advertised capability is not scored)
                ["stake_reliability_floor"] = w.StakeReliabilityFloor,
            },
            ["data_classes"] = classes,
            ["note"] = "latency and throughput are measured by this requester, never self-reported",
        };
    }

    private JsonObject Verification(GridNode node, NodeConfig c, IReadOnlyList<Receipt> receipts)
    {
        var vetting = _host.Trust.Vetting();
        // The newest job with receipts: what each worker committed and how the quorum judged it.
        var job = receipts.Count > 0 ? receipts[0].JobId : null;
        // Canaries and drift from the trust store, the rows p2p_status() shows (one read).
        var checks = _host.Trust.Verification(job);
        JsonObject? last = null;
        if (job is not null)
        {
            var ofJob = receipts.Where(r => r.JobId == job).ToList();
            var hashes = new JsonArray([.. ofJob.GroupBy(r => r.ResultHash, StringComparer.Ordinal).Select(g => (JsonNode)new JsonObject
            {
                ["result_hash"] = g.Key,
                ["workers"] = new JsonArray([.. g.Select(r => (JsonNode)PeerNames.Of(r.WorkerId))]),
                ["verdicts"] = new JsonArray([.. g.Select(r => (JsonNode)r.Verdict.ToString())]),
            })]);
            last = new JsonObject
            {
                ["job_id"] = job,
                ["agreement"] = ofJob.Count(r => r.Verdict == Verdict.Correct),
                ["quorum"] = c.Scheduler.Quorum,
                ["replicas"] = ofJob.Count,
                ["drifted"] = checks.DriftedOfJob,
                ["hashes"] = hashes,
            };
        }
        return new JsonObject
        {
            ["order_independence"] = OrderDemo(node),
            ["commit_first"] = "every worker signs a commit (job, query hash, input fingerprint, result hash, row count) before it sends a row; "
                + "rows reach the caller only after they re-hash to the agreed hash",
            ["last_quorum"] = last,
            ["vetting"] = new JsonObject
            {
                ["passed"] = vetting.Values.Count(v => v.Passed),
                ["failed"] = vetting.Values.Count(v => !v.Passed),
                ["canary_rate"] = c.Trust.CanaryRate,
            },
            ["canaries"] = new JsonObject { ["run"] = checks.CanariesRun, ["failed"] = checks.CanariesFailed },
            ["drift"] = new JsonObject { ["partitions"] = checks.DriftedCommits, ["queries"] = checks.DriftedQueries },
        };
    }

    /// <summary>
    /// A small table hashed by this node's locked-down engine, then the same rows in a shuffled order: equal hashes show
    /// the canonical hash is order-independent. Refreshed (new shuffle) every 30 s.
    /// </summary>
    private JsonObject OrderDemo(GridNode node)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_orderDemo is { } cached && now - cached.At < TimeSpan.FromSeconds(30))
            {
                return (JsonObject)cached.Demo.DeepClone();
            }
        }
        var rows = new[] { (1, "amber"), (2, "brisk"), (3, "cosmic"), (4, "daring"), (5, "eager"), (6, "fancy") };
        var shuffled = rows.ToArray();
        Random.Shared.Shuffle(shuffled);
        string Sql(IEnumerable<(int Id, string Word)> r) => "SELECT * FROM (VALUES " + string.Join(", ", r.Select(x => $"({x.Id}, '{x.Word}')")) + ") t(id, word)";
        var local = new QueryOverrides { Prefer = PlannerPreference.Local };
        JsonObject demo;
        try
        {
            var a = node.Query(Sql(rows), local, computeHash: true);
            var b = node.Query(Sql(shuffled), local, computeHash: true);
            using (a.Result)
            using (b.Result)
            {
                demo = new JsonObject
                {
                    ["rows"] = rows.Length,
                    ["order"] = new JsonArray([.. rows.Select(r => (JsonNode)r.Item1)]),
                    ["shuffled_order"] = new JsonArray([.. shuffled.Select(r => (JsonNode)r.Item1)]),
                    ["hash"] = a.Meta.AgreedHash,
                    ["shuffled_hash"] = b.Meta.AgreedHash,
                    ["equal"] = a.Meta.AgreedHash is not null && a.Meta.AgreedHash == b.Meta.AgreedHash,
                };
            }
        }
        catch (QueryFailedException e)
        {
            demo = new JsonObject { ["error"] = e.Message };
        }
        lock (_gate)
        {
            _orderDemo = (now, demo);
        }
        return (JsonObject)demo.DeepClone();
    }
}
