using System.Diagnostics;
using System.Globalization;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.Node;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Transport;

namespace Duckton.Grid.Tests;

/// <summary>
/// A fresh loopback grid of 9 hosts — 7 honest, 1 SIMULATED cheater, 1 SIMULATED flaky host — plus one honest host
/// that SIMULATES hiding the receipts about itself. The requester keeps the default policy (min_trust 0.7).
/// </summary>
public sealed class TrustFixture : IDisposable
{
    public TrustFixture()
    {
        Root = Directory.CreateTempSubdirectory("duckton-trust-tests-").FullName;
        var first = HostProcess.Start(Root, "honest0");
        var seed = new[] { "--seed", first.Address };
        // honest5 and honest6 also claim L2 with evidence from the SIMULATED demo authority.
        var starts = Enumerable.Range(1, 6).Select(i => HostProcess.StartAsync(Root, $"honest{i}", i >= 5 ? [.. seed, "--simulate-attestation", "L2"] : seed)).ToList();
        var cheater = HostProcess.StartAsync(Root, "cheater", [.. seed, "--simulate", "cheat"]);
        var flaky = HostProcess.StartAsync(Root, "flaky", [.. seed, "--simulate", "flaky"]);
        var hider = HostProcess.StartAsync(Root, "hider", [.. seed, "--simulate-hide-receipts"]);
        Task.WaitAll([.. starts, cheater, flaky, hider]);
        Honest = [first, .. starts.Select(s => s.Result)];
        Cheater = cheater.Result;
        Flaky = flaky.Result;
        Hider = hider.Result;
        Requester = new Requester(Root, "requester", ("scheduler.progress_interval_ms", "200"), ("discovery.gossip.heartbeat_ms", "1000"));
    }

    public string Root { get; }
    public IReadOnlyList<HostProcess> Honest { get; }
    public HostProcess Cheater { get; }
    public HostProcess Flaky { get; }
    public HostProcess Hider { get; }
    public Requester Requester { get; }
    public IEnumerable<HostProcess> All => [.. Honest, Cheater, Flaky, Hider];

    public void Dispose()
    {
        FixtureTeardown.Run(Requester, All, Root);
    }
}

[CollectionDefinition(Name)]
public sealed class TrustCollection : ICollectionFixture<TrustFixture>
{
    public const string Name = "trust";
}

/// <summary>One scenario in order (a fresh grid is only fresh once), then independent checks.</summary>
[Collection(TrustCollection.Name)]
public sealed class TrustTests(TrustFixture grid)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private Requester R => grid.Requester;

    private Dictionary<string, string?[]> Peers() =>
        R.Rows("SELECT node_id, trust::VARCHAR, reputation::VARCHAR, observations::VARCHAR, flagged::VARCHAR, standing, attestation FROM p2p_peers()").ToDictionary(r => r[0]!, r => r);

    private static double D(string? s) => double.Parse(s!, Inv);

    [Fact]
    public async Task A_fresh_grid_earns_trust_cheaters_and_flaky_hosts_lose_it_and_state_survives_sigkill()
    {
        // 1. A fresh grid under the default policy: the first query vets newcomers with canaries (documented warm-up).
        Assert.Equal(0.7, R.Host.Config.Effective().Config.Trust.MinTrust);
        R.JoinAndLearn(grid.Honest[0].Address, grid.All.Count());
        var sw = Stopwatch.StartNew();
        var first = R.Host.Node.Query("SELECT 42 AS answer", new QueryOverrides { Prefer = PlannerPreference.Remote });
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"warm-up took {sw.Elapsed}");
        Assert.True(first.Meta.Verified);
        Assert.False(first.Meta.ExecutedLocally);
        Assert.True(first.Meta.Probationary >= 2, $"probationary {first.Meta.Probationary}");
        Assert.True(first.Meta.Receipts >= 2);

        // 2. A workload of 20 queries: every answer is correct, and the cheater never takes part after its canary.
        var cheaterCommits = 0;
        for (var i = 0; i < 20; i++)
        {
            var sql = $"SELECT range % {i + 3} AS k, count(*) AS c, sum(range * {i + 1}) AS s FROM range({1000 + (i * 100)}) GROUP BY k ORDER BY k";
            var expected = R.Host.Node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Local }).Result;
            var outcome = R.Host.Node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Remote });
            Assert.Null(BatchComparer.Difference(expected, outcome.Result));
            Assert.True(outcome.Meta.Verified);
            Assert.NotEqual(grid.Cheater.NodeId, outcome.Meta.Winner);
            cheaterCommits += CommitCertificate.Verify(outcome.Meta.Certificate!, 2).Hosts.Count(h => h == grid.Cheater.NodeId);
        }
        Assert.Equal(0, cheaterCommits);

        // Audit every host with canaries twice (the flaky host alternately stalls before committing).
        var node = R.Host.Node;
        var config = R.Host.Config.Effective().Config;
        foreach (var round in new[] { 1, 2 })
        {
            await Task.WhenAll(node.GridIfStarted!.Membership.Live().Select(p => node.Trust.RunCanaryAsync(node.GridIfStarted.Coordinator, p, config, CancellationToken.None)));
        }

        // 3. Trust: the cheater ~0 and never selected, the flaky host penalised with Timeout receipts, honest hosts up.
        var peers = Peers();
        Assert.True(D(peers[grid.Cheater.NodeId][1]) < 0.1, $"cheater trust {peers[grid.Cheater.NodeId][1]}");
        Assert.Equal("true", peers[grid.Cheater.NodeId][4]);
        Assert.Equal("failed", peers[grid.Cheater.NodeId][5]);
        var receipts = R.Rows("SELECT worker_id, verdict FROM p2p_receipts()");
        Assert.Contains(receipts, r => r[0] == grid.Cheater.NodeId && r[1] == "Incorrect");
        Assert.Contains(receipts, r => r[0] == grid.Flaky.NodeId && r[1] == "Timeout");
        var bootstrap = 0.7 * 0.1;
        var honestTrust = grid.Honest.Select(h => D(peers[h.NodeId][1])).ToList();
        Assert.All(honestTrust, t => Assert.True(t > bootstrap, $"honest trust {t}"));
        Assert.All(grid.Honest, h => Assert.Equal("false", peers[h.NodeId][4]));
        Assert.True(D(peers[grid.Flaky.NodeId][1]) < honestTrust.Max(), "the flaky host should rank below the best honest host");
        var ranked = node.Trust.Rank(node.GridIfStarted!.Coordinator.Eligible(config, QueryOverrides.None), new CandidateContext("x", "SELECT 1", config, QueryOverrides.None));
        Assert.DoesNotContain(ranked, p => p.NodeId == grid.Cheater.NodeId);

        // 4. The host hiding receipts about itself is caught once its advert is re-signed after the delivery.
        var deadline = Stopwatch.StartNew();
        while (Peers()[grid.Hider.NodeId][4] != "true" && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await R.Host.Node.GridIfStarted!.GossipRoundAsync();
            await Task.Delay(500);
        }
        Assert.Equal("true", Peers()[grid.Hider.NodeId][4]);
        Assert.Contains("hides receipts", node.Trust.FlagReason(grid.Hider.NodeId));

        // 5. A CLI-driven requester with its own config dir: work, block the cheater, SIGKILL, restart, same state.
        CliRequesterSurvivesSigkill();
    }

    private void CliRequesterSurvivesSigkill()
    {
        var dir = Path.Combine(grid.Root, "cli-requester");
        Directory.CreateDirectory(dir);
        var join = $"SELECT count(*) FROM p2p_join(bootstrap => ['{grid.Honest[0].Address}'])";
        const string peers = "SELECT node_id, reputation, observations FROM p2p_peers() ORDER BY node_id";
        const string blocklist = "SELECT id, kind FROM p2p_blocklist() ORDER BY id";
        var args = new List<string> { "sql", "--config-dir", dir, "--format", "csv", "-c", join };
        for (var i = 0; i < 3; i++)
        {
            args.AddRange(["-c", $"SELECT * FROM p2p_query('SELECT {i} AS v, range AS r FROM range(10) ORDER BY r', prefer => 'remote')"]);
        }
        args.AddRange(["-c", $"SELECT count(*) FROM p2p_block(id => '{grid.Cheater.NodeId}', reason => 'wrong answers')"]);
        args.AddRange(["-c", "SELECT 'BEGIN-PEERS' AS m", "-c", peers, "-c", "SELECT 'BEGIN-BLOCK' AS m", "-c", blocklist, "-c", "SELECT 'END' AS m"]);
        args.AddRange(["-c", "SELECT sum(range % 7) FROM range(1000000000000)"]); // keeps the process busy until SIGKILL
        var (before, killed) = RunUntilEnd(dir, args);
        Assert.True(killed, "the CLI requester should have been SIGKILLed while still running");

        var after = CliOutput(dir, ["sql", "--config-dir", dir, "--format", "csv", "-c", join, "-c", "SELECT 'BEGIN-PEERS' AS m", "-c", peers,
            "-c", "SELECT 'BEGIN-BLOCK' AS m", "-c", blocklist, "-c", "SELECT 'END' AS m"]);
        var (peersBefore, blockBefore) = Sections(before);
        var (peersAfter, blockAfter) = Sections(after);
        Assert.Equal(blockBefore, blockAfter);
        Assert.Contains(blockAfter, l => l.StartsWith(grid.Cheater.NodeId, StringComparison.Ordinal));
        var mapBefore = peersBefore.Select(l => l.Split(',')).ToDictionary(p => p[0], p => p);
        var mapAfter = peersAfter.Select(l => l.Split(',')).ToDictionary(p => p[0], p => p);
        Assert.True(mapBefore.Values.Any(p => int.Parse(p[2], Inv) > 0), "the CLI requester should have observed hosts");
        // p2p_peers lists live peers learned through gossip since the restart, and one gossip round may not have
        // reached every host (the sybil identities included): compare every peer both lists show; the reputations
        // must be the persisted ones, and at least one host the requester observed must be among them.
        var common = mapBefore.Keys.Intersect(mapAfter.Keys).ToList();
        Assert.True(common.Count >= Math.Min(3, mapBefore.Count), $"only {common.Count} of {mapBefore.Count} peers known again after restart");
        Assert.Contains(common, id => int.Parse(mapBefore[id][2], Inv) > 0);
        foreach (var id in common)
        {
            var (p, q) = (mapBefore[id], mapAfter[id]);
            Assert.Equal(p[2], q[2]);
            Assert.True(Math.Abs(D(p[1]) - D(q[1])) < 1e-3, $"{id}: reputation {p[1]} before, {q[1]} after");
        }
    }

    private static (List<string> Peers, List<string> Block) Sections(IReadOnlyList<string> lines)
    {
        var peers = new List<string>();
        var block = new List<string>();
        List<string>? current = null;
        foreach (var l in lines)
        {
            if (l == "BEGIN-PEERS")
            {
                current = peers;
            }
            else if (l == "BEGIN-BLOCK")
            {
                current = block;
            }
            else if (l == "END")
            {
                current = null;
            }
            else if (current is not null && l.StartsWith("b3:", StringComparison.Ordinal))
            {
                current.Add(l);
            }
        }
        return (peers, block);
    }

    private static ProcessStartInfo Cli(string dir, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "duckton.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["P2P_CONFIG_DIR"] = dir;
        return psi;
    }

    /// <summary>Runs the CLI until it printed END, then SIGKILLs it.</summary>
    private static (List<string> Lines, bool Killed) RunUntilEnd(string dir, IEnumerable<string> args)
    {
        using var p = Process.Start(Cli(dir, args))!;
        var stderr = p.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            var read = p.StandardOutput.ReadLineAsync();
            if (!read.Wait(TimeSpan.FromSeconds(90)) || read.Result is not { } line)
            {
                break;
            }
            lines.Add(line.Trim('"'));
            if (line.Trim('"') == "END")
            {
                break;
            }
        }
        var killed = !p.HasExited;
        p.Kill(entireProcessTree: true); // SIGKILL
        p.WaitForExit(10_000);
        Assert.True(lines.Contains("END"), $"CLI output: {string.Join('\n', lines)}\nstderr: {(stderr.Wait(2000) ? stderr.Result : "")}");
        return (lines, killed);
    }

    private static List<string> CliOutput(string dir, IEnumerable<string> args)
    {
        using var p = Process.Start(Cli(dir, args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(90_000), "the CLI did not finish");
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {stderr.Result}");
        return [.. stdout.Result.Split('\n').Select(l => l.Trim().Trim('"'))];
    }

    [Fact]
    public void Forged_tampered_and_replayed_gossiped_receipts_are_rejected()
    {
        var engine = R.Host.Node.Trust;
        using var other = NodeIdentity.Create();
        var worker = grid.Honest[1].NodeId;
        var receipt = new Receipt
        {
            JobId = JobIds.NewJobId(),
            WorkerId = worker,
            RequesterId = other.NodeId,
            QueryHash = new string('a', 64),
            Verdict = Verdict.Correct,
            Timestamp = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        }.SignWith(other.PublicKey.Span, b => other.Sign(b));
        var wire = ReceiptMessage.Encode(receipt);
        Assert.Equal("accepted", engine.IngestReceipt(wire, other.NodeId));
        Assert.Equal("replay", engine.IngestReceipt(wire, other.NodeId));

        var tampered = ReceiptMessage.Encode(receipt with { Verdict = Verdict.Incorrect });
        Assert.StartsWith("rejected: bad signature", engine.IngestReceipt(tampered, other.NodeId));

        // Claims to come from this requester but is signed by another key.
        var forged = receipt with { RequesterId = R.Host.Node.Identity.NodeId, JobId = JobIds.NewJobId() };
        Assert.StartsWith("rejected: requester_id is not bound", engine.IngestReceipt(ReceiptMessage.Encode(forged), other.NodeId));

        var selfIssued = new Receipt { JobId = JobIds.NewJobId(), WorkerId = other.NodeId, RequesterId = other.NodeId, QueryHash = "q", Verdict = Verdict.Correct }
            .SignWith(other.PublicKey.Span, b => other.Sign(b));
        Assert.StartsWith("rejected: self-issued", engine.IngestReceipt(ReceiptMessage.Encode(selfIssued), other.NodeId));
        Assert.StartsWith("rejected: malformed", engine.IngestReceipt(wire.AsSpan(0, wire.Length - 3), other.NodeId));

        // Receipts issued by other requesters never move this node's reputation view.
        var config = R.Host.Config.Effective().Config;
        var before = engine.Evaluate(worker, config).Effective;
        var boost = new Receipt { JobId = JobIds.NewJobId(), WorkerId = worker, RequesterId = other.NodeId, QueryHash = "q", Verdict = Verdict.Incorrect }
            .SignWith(other.PublicKey.Span, b => other.Sign(b));
        Assert.Equal("accepted", engine.IngestReceipt(ReceiptMessage.Encode(boost), other.NodeId));
        Assert.Equal(before, engine.Evaluate(worker, config).Effective);
    }

    [Fact]
    public void A_flood_of_fresh_identities_cannot_outrank_established_hosts()
    {
        var node = R.Host.Node;
        var config = R.Host.Config.Effective().Config;
        if (node.GridIfStarted is null || node.GridIfStarted.Membership.Live().Count < grid.All.Count())
        {
            R.JoinAndLearn(grid.Honest[0].Address, grid.All.Count());
        }
        // Establish history with every honest host: each query names three of them and needs all three to agree, so
        // every host is observed (a quorum of two would leave the third unchecked, and ranking alone would keep
        // returning to the same few hosts).
        var honest = grid.Honest.Select(h => h.NodeId).ToList();
        for (var i = 0; i < 2 * honest.Count; i++)
        {
            var three = Enumerable.Range(i, 3).Select(j => honest[j % honest.Count]).ToList();
            var overrides = new QueryOverrides { Prefer = PlannerPreference.Remote, Nodes = three, Replicas = 3, Quorum = 3 };
            for (var waited = Stopwatch.StartNew(); ; )
            {
                try
                {
                    node.Query($"SELECT {i} AS v", overrides);
                    break;
                }
                catch (QueryFailedException e) when (e.Message.Contains("have not passed their canary", StringComparison.Ordinal) && waited.Elapsed < TimeSpan.FromMinutes(1))
                {
                    // On a loaded machine a newcomer's canary can outlast the first query's wait; it goes on in the background.
                    Thread.Sleep(500);
                }
            }
        }
        var grid0 = node.GridIfStarted!;
        var sybils = new List<NodeIdentity>();
        try
        {
            // Mint every proof of work first, then let the flood arrive at once: a background gossip round marks an
            // unreachable sybil suspect, and minting twenty nonces on a loaded machine takes longer than a round.
            var nonces = new List<ulong>();
            for (var i = 0; i < 20; i++)
            {
                var id = NodeIdentity.Create();
                sybils.Add(id);
                nonces.Add(ProofOfWork.Mint(id.PublicKey.Span, ProofOfWork.DefaultBits));
            }
            for (var i = 0; i < 20; i++)
            {
                var id = sybils[i];
                var advert = new AdvertMessage(id.PublicKey.ToArray(), $"127.0.0.1:{9 + i}", 64L << 30, 64, 64, 2, true, ["default"], [], "", nonces[i], ProofOfWork.DefaultBits,
                    (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1).SignWith(b => id.Sign(b));
                Assert.Null(grid0.Membership.Ingest(advert, direct: true));
            }
            var sybilIds = sybils.Select(s => s.NodeId).ToHashSet();
            var eligible = grid0.Coordinator.Eligible(config, QueryOverrides.None);
            // (a background gossip round may already have marked a few unreachable sybils suspect)
            Assert.True(eligible.Count(p => sybilIds.Contains(p.NodeId)) >= 15, $"{eligible.Count(p => sybilIds.Contains(p.NodeId))} sybils eligible");
            var ranked = node.Trust.Rank(eligible, new CandidateContext("x", "SELECT 1", config, QueryOverrides.None));
            Assert.True(ranked.Count >= 3, $"ranked {ranked.Count} of {eligible.Count} eligible: " + string.Join(", ", eligible.Select(p => p.NodeId[..10])));
            Assert.DoesNotContain(ranked, p => sybilIds.Contains(p.NodeId));
            // Even once vetted, a sybil's selection score stays below every established honest host's.
            var established = grid.Honest.Select(h => node.Trust.Assess(grid0.Membership.Find(h.NodeId)!, config, QueryOverrides.None)).Where(a => a.Observations >= 3).ToList();
            Assert.NotEmpty(established);
            var sybilScore = sybils.Select(s => node.Trust.Assess(grid0.Membership.Find(s.NodeId)!, config, QueryOverrides.None)).Max(a => a.Selection);
            Assert.All(established, a => Assert.True(a.Selection > sybilScore, $"{a.NodeId}: {a.Selection} vs sybil {sybilScore}"));
            // A claimed L2 without verified evidence counts as L0.
            var claimed = node.Trust.Assess(grid0.Membership.Find(sybils[0].NodeId)!, config, QueryOverrides.None);
            Assert.Equal(AttestationLevel.L0, claimed.Attestation);
            Assert.Contains("counted as L0", claimed.AttestationNote);
            // And a real query still runs on established hosts only.
            var outcome = node.Query("SELECT 99 AS v", new QueryOverrides { Prefer = PlannerPreference.Remote });
            Assert.True(outcome.Meta.Verified);
            Assert.DoesNotContain(sybilIds, outcome.Meta.Winner!.Equals);
        }
        finally
        {
            foreach (var s in sybils)
            {
                s.Dispose();
            }
        }
    }

    [Fact]
    public async Task Once_enough_hosts_are_trusted_newcomers_run_as_shadow_replicas_checked_but_never_counted()
    {
        using var requester = new Requester(grid.Root, "shadow-req-" + Guid.NewGuid().ToString("N")[..6], ("scheduler.offer_timeout_ms", "10000"));
        requester.Rows($"SELECT * FROM p2p_join(bootstrap => ['{grid.Honest[0].Address}'])");
        var node = requester.Host.Node;
        var established = grid.Honest.Take(4).ToList();
        var newcomer = grid.Honest[4];
        var nodes = established.Select(h => h.NodeId).ToList();
        // History with four hosts only (this requester's own receipts), so they out-trust everyone else. Each query names
        // three of the four and needs all three to agree, so every one of them is observed six times.
        for (var i = 0; i < 8; i++)
        {
            var three = Enumerable.Range(i, 3).Select(j => nodes[j % nodes.Count]).ToList();
            Assert.True(node.Query($"SELECT {i} AS v", new QueryOverrides { Prefer = PlannerPreference.Remote, Nodes = three, Replicas = 3, Quorum = 3 }).Meta.Verified);
        }
        var config = requester.Host.Config.Effective().Config;
        var grid0 = node.GridIfStarted!;
        double TrustOf(HostProcess h) => node.Trust.Assess(grid0.Membership.Find(h.NodeId)!, config, QueryOverrides.None).Trust.Effective;
        var lowestEstablished = established.Min(TrustOf);
        var threshold = (lowestEstablished + TrustOf(newcomer)) / 2;
        Assert.True(lowestEstablished > TrustOf(newcomer) + 0.05, $"established {lowestEstablished} vs newcomer {TrustOf(newcomer)}");

        // k = 3 trusted hosts exist: the newcomer and the cheater may only shadow. Shadows go to the least observed first.
        foreach (var shadow in new[] { newcomer, grid.Cheater })
        {
            var sql = "SELECT range % 5 AS k, sum(range) AS s FROM range(5000) GROUP BY k ORDER BY k";
            var outcome = node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Remote, Nodes = [.. nodes, shadow.NodeId], MinTrust = threshold });
            Assert.True(outcome.Meta.Verified);
            Assert.Null(BatchComparer.Difference(node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Local }).Result, outcome.Result));
            Assert.Equal(1, outcome.Meta.ShadowReplicas);
            Assert.Equal(0, outcome.Meta.Probationary);
            Assert.DoesNotContain(shadow.NodeId, CommitCertificate.Verify(outcome.Meta.Certificate!, 2).Hosts);
            Assert.NotEqual(shadow.NodeId, outcome.Meta.Winner);
            // The shadow's receipt for this very job arrives after the query returned.
            var expected = shadow == grid.Cheater ? "Incorrect" : "Correct";
            var deadline = Stopwatch.StartNew();
            List<string?[]> mine;
            do
            {
                await Task.Delay(100);
                mine = requester.Rows($"SELECT verdict FROM p2p_receipts(worker => '{shadow.NodeId}') WHERE job_id = '{outcome.Meta.JobId}'");
            }
            while (mine.Count == 0 && deadline.Elapsed < TimeSpan.FromSeconds(20));
            Assert.Equal(expected, Assert.Single(mine)[0]);
        }
        var standing = requester.Rows("SELECT node_id, standing FROM p2p_peers()").ToDictionary(r => r[0]!, r => r[1]);
        Assert.Equal("vetted", standing[newcomer.NodeId]);
        Assert.Equal("failed", standing[grid.Cheater.NodeId]);
    }

    [Fact]
    public async Task A_host_that_never_served_the_requester_learns_the_cheaters_Incorrect_receipt_within_a_few_heartbeats()
    {
        var node = R.Host.Node;
        if (node.GridIfStarted is null || node.GridIfStarted.Membership.Live().Count < grid.All.Count())
        {
            R.JoinAndLearn(grid.Honest[0].Address, grid.All.Count());
        }
        // The requester's own canary catches the cheater: an Incorrect receipt it signs.
        var config = R.Host.Config.Effective().Config;
        var grid0 = node.GridIfStarted!;
        await node.Trust.RunCanaryAsync(grid0.Coordinator, grid0.Membership.Find(grid.Cheater.NodeId)!, config, CancellationToken.None);
        var requesterId = node.Identity.NodeId;
        string Incorrect(Requester who) => $"SELECT verdict FROM p2p_receipts() WHERE worker_id = '{grid.Cheater.NodeId}' AND requester_id = '{requesterId}' AND verdict = 'Incorrect'";
        Assert.NotEmpty(R.Rows(Incorrect(R)));

        // A host started only now has served nobody; its own trust store (read through its config directory) must
        // come to hold the receipt through gossip alone.
        var name = "late-" + Guid.NewGuid().ToString("N")[..6];
        using var late = HostProcess.Start(grid.Root, name, "--seed", grid.Honest[0].Address);
        using var view = new Requester(grid.Root, name);
        var waited = Stopwatch.StartNew();
        var held = false;
        while (!held && waited.Elapsed < TimeSpan.FromSeconds(90))
        {
            await grid0.GossipRoundAsync();
            await Task.Delay(1000);
            held = view.Rows(Incorrect(view)).Count > 0;
        }
        Assert.True(held, $"the late host's store did not hold the cheater's Incorrect receipt after {waited.Elapsed.TotalSeconds:0} s");
        Assert.Empty(view.Rows($"SELECT job_id FROM p2p_receipts() WHERE worker_id = '{late.NodeId}'"));
    }

    [Fact]
    public void A_blocked_requester_is_refused_by_the_host_at_once()
    {
        using var host = new Requester(grid.Root, "blocking-host-" + Guid.NewGuid().ToString("N")[..6]);
        using var requester = new Requester(grid.Root, "blocked-requester-" + Guid.NewGuid().ToString("N")[..6]);
        var share = host.Rows("SELECT key, value FROM p2p_share(memory => '1GB', threads => 2, max_jobs => 2)").ToDictionary(r => r[0]!, r => r[1]);
        requester.Rows($"SELECT * FROM p2p_join(bootstrap => ['{share["listen_addr"]}'])");
        var one = new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 1, Quorum = 1, Nodes = [share["node_id"]!] };
        Assert.True(requester.Host.Node.Query("SELECT 1 AS v", one).Meta.Verified); // vetted by a canary, then served
        host.Rows($"SELECT status, id FROM p2p_block(id => '{requester.Host.Node.Identity.NodeId}', reason => 'test')");
        var refused = Assert.Throws<QueryFailedException>(() => requester.Host.Node.Query("SELECT 2 AS v", one));
        Assert.Contains("deny-list", refused.Message);

        // And the requester never selects a host it blocked.
        host.Rows($"SELECT status, id FROM p2p_unblock(id => '{requester.Host.Node.Identity.NodeId}')");
        requester.Rows($"SELECT status, id FROM p2p_block(id => '{share["node_id"]}', reason => 'test')");
        Assert.Throws<QueryFailedException>(() => requester.Host.Node.Query("SELECT 3 AS v", one));
    }

    [Fact]
    public void Attestation_counts_only_when_evidence_bound_to_the_offer_verifies()
    {
        var l2 = new QueryOverrides { Prefer = PlannerPreference.Remote, MinAttestation = "L2", Replicas = 2, Quorum = 2 };
        var attested = new[] { grid.Honest[5].NodeId, grid.Honest[6].NodeId };

        // No trusted authority configured (the default): the SIMULATED claims count as L0, so an L2 floor finds no host.
        using var plain = new Requester(grid.Root, "att-plain-" + Guid.NewGuid().ToString("N")[..6]);
        plain.JoinAndLearn(grid.Honest[0].Address, grid.All.Count());
        Assert.Throws<QueryFailedException>(() => plain.Host.Node.Query("SELECT 1 AS v", l2));
        var shown = plain.Rows("SELECT node_id, attestation FROM p2p_peers()").ToDictionary(r => r[0]!, r => r[1]);
        Assert.All(attested, id => Assert.StartsWith("L0 (claimed L2 counted as L0: no trusted attestation authority configured", shown[id]));

        // A requester that (for this test) trusts the SIMULATED demo authority: evidence bound to each offer's nonce verifies.
        using var trusting = new Requester(grid.Root, "att-trusting-" + Guid.NewGuid().ToString("N")[..6]);
        var measurement = new HashSet<string> { SimulatedAttestationAuthority.SimulatedMeasurement };
        trusting.Host.Node.Trust.Verifier = new AttestationVerifier([SimulatedAttestationAuthority.Demo.PublicKey],
            new Dictionary<AttestationLevel, IReadOnlySet<string>> { [AttestationLevel.L1] = measurement, [AttestationLevel.L2] = measurement });
        trusting.JoinAndLearn(grid.Honest[0].Address, grid.All.Count());
        var outcome = trusting.Host.Node.Query("SELECT 2 AS v", l2);
        Assert.True(outcome.Meta.Verified);
        Assert.Contains(outcome.Meta.Winner, attested);
        Assert.All(CommitCertificate.Verify(outcome.Meta.Certificate!, 2).Hosts, h => Assert.Contains(h, attested));
        var peers = trusting.Rows("SELECT node_id, attestation FROM p2p_peers()").ToDictionary(r => r[0]!, r => r[1]);
        Assert.All(attested, id => Assert.Contains("SIMULATED", peers[id]));
        Assert.All(attested, id => Assert.StartsWith("L2", peers[id]));

        // The same through configuration only (what an operator does): trust.attestation_authorities / allowed_measurements.
        using var configured = new Requester(grid.Root, "att-configured-" + Guid.NewGuid().ToString("N")[..6],
            ("trust.attestation_authorities", $"[\"{Convert.ToHexStringLower(SimulatedAttestationAuthority.Demo.PublicKey)}\"]"),
            ("trust.allowed_measurements", $"[\"L2:{SimulatedAttestationAuthority.SimulatedMeasurement}\"]"));
        configured.JoinAndLearn(grid.Honest[0].Address, grid.All.Count());
        var viaConfig = configured.Host.Node.Query("SELECT 3 AS v", l2);
        Assert.True(viaConfig.Meta.Verified);
        Assert.All(CommitCertificate.Verify(viaConfig.Meta.Certificate!, 2).Hosts, h => Assert.Contains(h, attested));
        Assert.Contains("SIMULATED", configured.Rows("SELECT value FROM p2p_status() WHERE key = 'attestation_verifier'").Single()[0]);

        // Evidence replayed for another nonce does not verify.
        var evidence = SimulatedAttestationAuthority.Demo.Issue(AttestationLevel.L2, SimulatedAttestationAuthority.SimulatedMeasurement, new byte[8], Convert.FromHexString("00" + new string('1', 62)));
        var check = trusting.Host.Node.Trust.Verifier.Verify(AttestationLevel.L2, evidence.Encode(), [1, 0, 0, 0, 0, 0, 0, 0], evidence.BoundPublicKey);
        Assert.Equal(AttestationLevel.L0, check.Level);
        Assert.Contains("nonce", check.Problem);
    }

    [Fact]
    public void Data_class_policies_only_raise_the_floors()
    {
        var c = R.Host.Config.Effective().Config;
        Assert.Equal((0.7, AttestationLevel.L0), TrustEngine.Floors(c, QueryOverrides.None));
        Assert.Equal((0.85, AttestationLevel.L1), TrustEngine.Floors(c, new QueryOverrides { DataClass = Duckton.Core.Configuration.DataClass.Internal }));
        Assert.Equal(AttestationLevel.L2, TrustEngine.Floors(c, new QueryOverrides { DataClass = Duckton.Core.Configuration.DataClass.Sensitive }).MinAttestation);
        var strict = c with { Trust = c.Trust with { MinTrust = 0.95 } };
        Assert.Equal(0.95, TrustEngine.Floors(strict, new QueryOverrides { DataClass = Duckton.Core.Configuration.DataClass.Internal }).MinTrust);
    }
}
