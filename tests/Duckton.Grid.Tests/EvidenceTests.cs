using System.Globalization;
using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.Node;
using Duckton.Node.Grid;
using Duckton.Node.Trust;

namespace Duckton.Grid.Tests;

/// <summary>
/// Evidence beats votes (issue 11, finding 7): <c>grid up --hosts 3 --cheaters 2</c> and a requester that lowers
/// <c>min_trust => 0</c>. Two hosts that signed wrong canary answers agree with each other; before, they won the quorum
/// with 43 for <c>SELECT 42</c>, the honest host was marked Incorrect and their reputations rose.
/// </summary>
public sealed class EvidenceTests : IDisposable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-evidence-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Hosts_with_signed_wrong_answers_are_never_selected_even_with_min_trust_zero()
    {
        using var grid = new CliGrid(_root, hosts: 3, cheaters: 2, flaky: 0);
        var cheaters = grid.Hosts.Where(h => h.What.StartsWith("SIMULATED cheater", StringComparison.Ordinal)).Select(h => h.NodeId).ToList();
        var honest = Assert.Single(grid.Hosts, h => h.What == "honest").NodeId;
        Assert.Equal(2, cheaters.Count);

        using (var requester = new Requester(_root, "requester", ("discovery.gossip.heartbeat_ms", "1000")))
        {
            var node = requester.Host.Node;
            var config = requester.Host.Config.Effective().Config;
            requester.JoinAndLearn(grid.Seed, 3);
            var live = node.GridIfStarted!.Membership.Live();
            // The cheaters fail their canaries: each signs a wrong answer to a query this node computed itself.
            await Task.WhenAll(live.Select(p => node.Trust.RunCanaryAsync(node.GridIfStarted.Coordinator, p, config, CancellationToken.None)));
            foreach (var cheater in cheaters)
            {
                Assert.NotNull(node.Trust.Evidence(cheater));
            }
            Assert.Null(node.Trust.Evidence(honest));
            var stored = node.Trust.Store.Evidence();
            Assert.Equal(cheaters.Order(), stored.Select(e => e.NodeId).Distinct().Order());
            foreach (var e in stored)
            {
                // The proof is the host's own signed commit: checkable by anyone, not a vote.
                Assert.Equal(EvidenceKinds.WrongCanary, e.Kind);
                var commit = CommitMessage.Decode(e.Proof);
                Assert.True(commit.VerifySignature());
                Assert.Equal(e.NodeId, commit.HostNodeId);
            }
            var trustBefore = Trust(requester);

            // min_trust => 0 (finding 7): no wrong answer is ever verified; with quorum 2 the query fails clearly,
            // with quorum 1 the honest host answers.
            for (var i = 0; i < 3; i++)
            {
                var e = Assert.ThrowsAny<Exception>(() => requester.Rows("SELECT answer::VARCHAR FROM p2p_query('SELECT 42 AS answer', min_trust => 0, prefer => 'remote')"));
                Assert.Contains("not enough hosts: 1 of 3 can be selected, need quorum 2; 2 host(s) are excluded by evidence", e.Message, StringComparison.Ordinal);
            }
            var rows = requester.Rows("SELECT answer::VARCHAR FROM p2p_query('SELECT 42 AS answer', min_trust => 0, quorum => 1, prefer => 'remote')");
            Assert.Equal("42", Assert.Single(rows)[0]);

            // The honest host is not penalised; the cheaters earned nothing.
            var receipts = requester.Rows("SELECT worker_id, verdict FROM p2p_receipts()");
            Assert.DoesNotContain(receipts, r => r[0] == honest && r[1] != "Correct");
            Assert.DoesNotContain(receipts, r => cheaters.Contains(r[0]!) && r[1] == "Correct");
            Assert.Equal(0, node.TrustStore.Penalties(honest));
            var trustAfter = Trust(requester);
            foreach (var cheater in cheaters)
            {
                Assert.True(trustAfter[cheater] <= trustBefore[cheater], $"cheater trust rose from {trustBefore[cheater]} to {trustAfter[cheater]}");
                Assert.Equal(0, trustAfter[cheater]);
            }

            // An honest minority is not judged on the word of a quorum holding a host with evidence.
            var issued = node.Trust.Issue(JobIds.NewJobId(), new string('a', 64),
            [
                new HostVerdict(honest, Verdict.Incorrect, "b3:honest", 1, 5, 0, null) { Quorum = cheaters },
                new HostVerdict(cheaters[0], Verdict.Correct, "b3:wrong", 1, 5, 0, null) { Quorum = cheaters },
            ]);
            Assert.Equal(0, issued);
            Assert.Equal(0, node.TrustStore.Penalties(honest));
        }

        // Durable: a requester restarted on the same configuration directory still excludes them, whatever min_trust says.
        using (var again = new Requester(_root, "requester"))
        {
            var node = again.Host.Node;
            again.JoinAndLearn(grid.Seed, 3);
            foreach (var cheater in cheaters)
            {
                Assert.NotNull(node.Trust.Evidence(cheater));
            }
            var overrides = new QueryOverrides { MinTrust = 0, MinTrustSource = ConfigSource.Call };
            var config = again.Host.Config.Effective(overrides.ToConfigLayer()).Config;
            Assert.Equal(0, config.Trust.MinTrust);
            var ranked = node.Trust.Rank(node.GridIfStarted!.Coordinator.Eligible(config, overrides), new CandidateContext("x", "SELECT 1", config, overrides));
            Assert.Equal(new[] { honest }, ranked.Select(p => p.NodeId));
            var peers = again.Rows("SELECT node_id, standing, flag_reason FROM p2p_peers()").ToDictionary(r => r[0]!, r => r);
            Assert.All(cheaters, c => Assert.StartsWith("evidence: wrong canary answer", peers[c][2], StringComparison.Ordinal));
        }
        // Stopping grid up is CliGridTrustTests' subject; here it only must not outlive the test.
        grid.Stop(TimeSpan.FromSeconds(60));
    }

    private static Dictionary<string, double> Trust(Requester r) =>
        r.Rows("SELECT node_id, trust::VARCHAR FROM p2p_peers()").ToDictionary(x => x[0]!, x => double.Parse(x[1]!, Inv));

    [Fact]
    public void A_commit_contradicting_a_quorum_of_vetted_hosts_is_evidence_and_any_other_disagreement_a_vote()
    {
        using var requester = new Requester(_root, "judge");
        var trust = requester.Host.Node.Trust;
        var keys = Enumerable.Range(0, 6).Select(_ => Duckton.Core.Crypto.Ed25519Key.Generate()).ToList();
        var ids = keys.Select(k => JobIds.NodeIdOf(k.PublicKey)).ToList();
        var (a, b, c, liar, unvetted, honest) = (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]);
        var queryHash = new string('d', 64);
        // a, b and c prove themselves (a shadow replica's checked answer vets a host like a canary).
        trust.Issue(JobIds.NewJobId(), queryHash, [.. new[] { a, b, c }.Select(n => new HostVerdict(n, Verdict.Correct, "x", 1, 5, 0, null) { Shadow = true })]);
        Assert.True(trust.IsVetted(a) && trust.IsVetted(b) && trust.IsVetted(c));
        CommitMessage Signed(int who, string jobId) => new CommitMessage(jobId, queryHash, requester.Host.Node.Identity.NodeId, keys[who].PublicKey.ToArray(), [],
            new string('e', 64), 1, [], 10).SignWith(m => keys[who].Sign(m));

        // Against a quorum of vetted hosts without evidence: evidence, stored with the signed commit as proof.
        var job = JobIds.NewJobId();
        trust.Issue(job, queryHash, [new HostVerdict(liar, Verdict.Incorrect, new string('e', 64), 1, 5, 0, null) { Quorum = [a, b, c], Contradicting = Signed(3, job) }]);
        Assert.StartsWith("commit contradicting a verified certificate", trust.Evidence(liar), StringComparison.Ordinal);
        var stored = Assert.Single(trust.Store.Evidence(), e => e.NodeId == liar);
        Assert.Equal(EvidenceKinds.ContradictsCertificate, stored.Kind);
        Assert.True(CommitMessage.Decode(stored.Proof).VerifySignature());

        // Against a quorum holding an unvetted host: a vote (Incorrect receipt), not evidence.
        job = JobIds.NewJobId();
        Assert.Equal(1, trust.Issue(job, queryHash, [new HostVerdict(honest, Verdict.Incorrect, new string('e', 64), 1, 5, 0, null) { Quorum = [a, unvetted, b], Contradicting = Signed(5, job) }]));
        Assert.Null(trust.Evidence(honest));

        // A forged proof (signature does not verify) is not evidence either.
        job = JobIds.NewJobId();
        var forged = Signed(4, job) with { ResultHash = new string('f', 64) };
        trust.Issue(job, queryHash, [new HostVerdict(unvetted, Verdict.Incorrect, new string('f', 64), 1, 5, 0, null) { Quorum = [a, b, c], Contradicting = forged }]);
        Assert.Null(trust.Evidence(unvetted));

        // Nobody is judged on the word of a quorum that holds the liar.
        Assert.Equal(0, trust.Issue(JobIds.NewJobId(), queryHash, [new HostVerdict(c, Verdict.Incorrect, "y", 1, 5, 0, null) { Quorum = [a, liar, b] }]));
    }

    [Fact]
    public void Address_prefixes_group_IPv4_by_24_and_IPv6_by_64()
    {
        Assert.True(TrustEngine.SamePrefix("10.1.2.3:7000", "10.1.2.200:7001"));
        Assert.False(TrustEngine.SamePrefix("10.1.2.3:7000", "10.1.3.3:7000"));
        Assert.True(TrustEngine.SamePrefix("[2001:db8:1:2::1]:7000", "[2001:db8:1:2:ffff::9]:7000"));
        Assert.False(TrustEngine.SamePrefix("[2001:db8:1:2::1]:7000", "[2001:db8:1:3::1]:7000"));
        Assert.False(TrustEngine.SamePrefix("host-a.example:7000", "host-a.example:7000")); // names are not prefixes
    }

    [Fact]
    public void Diversify_keeps_related_hosts_out_of_one_quorum_when_others_are_available()
    {
        // a1, a2, a3 share an operator; b and c are independent and ranked lower.
        string[] ranked = ["a1", "a2", "a3", "b", "c"];
        static bool Related(string x, string y) => x[0] == 'a' && y[0] == 'a';
        Assert.Equal(new[] { "a1", "b", "c", "a2", "a3" }, TrustEngine.Diversify(ranked, 3, Related));
        // Only related hosts left: rank order decides.
        Assert.Equal(new[] { "a1", "a2", "a3" }, TrustEngine.Diversify(new[] { "a1", "a2", "a3" }, 2, Related));
        // Unrelated ranking is untouched.
        Assert.Equal(new[] { "b", "c", "a1", "a2" }, TrustEngine.Diversify(new[] { "b", "c", "a1", "a2" }, 2, Related));
    }
}
