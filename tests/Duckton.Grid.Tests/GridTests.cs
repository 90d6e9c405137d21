using System.Diagnostics;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.Core.Protocol;
using Duckton.Node;

namespace Duckton.Grid.Tests;

[Collection(GridCollection.Name)]
public sealed class GridTests(GridFixture grid)
{
    private Requester R => grid.Requester;

    private QueryOutcome Remote(string sql, params HostProcess[] hosts) =>
        R.Host.Node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = hosts.Length, Quorum = 2, Nodes = [.. hosts.Select(h => h.NodeId)] });

    private ResultSet Local(string sql) => R.Host.Node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Local }).Result;

    [Theory]
    [InlineData("SELECT 42 AS answer")]
    [InlineData("SELECT range AS i, range * 1.5 AS d, 'row ' || range AS s FROM range(5000) ORDER BY i")]
    [InlineData("SELECT {'a': [1, 2, NULL], 'b': 'x'} AS s, 12.34::DECIMAL(10,2) AS dec, DATE '2024-02-29' AS day, NULL::INTEGER AS n, [1.5, -0.0]::DOUBLE[] AS l")]
    [InlineData("SELECT range % 7 AS k, count(*) AS c, sum(range) AS s FROM range(100000) GROUP BY k ORDER BY k")]
    [InlineData("SELECT range AS i FROM range(300000)")]
    public void Verified_remote_results_equal_the_local_answer(string sql)
    {
        var outcome = Remote(sql, grid.H1, grid.H2, grid.H3);
        Assert.Null(BatchComparer.Difference(Local(sql), outcome.Result));
        var m = outcome.Meta;
        Assert.False(m.ExecutedLocally);
        Assert.True(m.Verified);
        Assert.True(m.Agreement >= 2);
        Assert.Equal(2, m.Quorum);
        Assert.Contains(m.Winner, new[] { grid.H1.NodeId, grid.H2.NodeId, grid.H3.NodeId });
        Assert.Equal(Duckton.Core.Hashing.CanonicalResultHash.Compute(outcome.Result).ToString(), m.AgreedHash);
        var cert = CommitCertificate.Verify(m.Certificate!, 2, m.AgreedHash);
        Assert.True(cert.Valid, cert.Error);
        Assert.Contains(m.Winner, cert.Hosts);
    }

    [Fact]
    public void Query_meta_through_sql_shows_the_remote_verification()
    {
        var meta = R.Meta("'SELECT 1 AS one'", $", replicas => 3, quorum => 2, prefer => 'remote', nodes => {GridFixture.Nodes(grid.H1, grid.H2, grid.H3)}");
        Assert.Equal("false", meta["executed_locally"]);
        Assert.Equal("true", meta["verified"]);
        Assert.Equal("2", meta["quorum"]);
        Assert.True(int.Parse(meta["agreement"]!, System.Globalization.CultureInfo.InvariantCulture) >= 2);
        Assert.Equal("1", meta["result_rows"]);
        Assert.Equal("with_commit", meta["rows_delivery"]); // a small result comes with the winner's commit: no Fetch round trip
        // One signed receipt per judged host: at least every agreeing host got a Correct receipt.
        Assert.True(int.Parse(meta["receipts"]!, System.Globalization.CultureInfo.InvariantCulture) >= int.Parse(meta["agreement"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(int.Parse(meta["probationary"]!, System.Globalization.CultureInfo.InvariantCulture), 0, 3);
        Assert.StartsWith("dcc2:", meta["certificate"]);
        var rows = R.Rows($"SELECT CAST(one AS VARCHAR), typeof(one) FROM p2p_query('SELECT 1 AS one', prefer => 'remote', nodes => {GridFixture.Nodes(grid.H1, grid.H2, grid.H3)})");
        Assert.Equal(new string?[] { "1", "INTEGER" }, rows.Single());
    }

    [Fact]
    public void A_cheating_host_is_outvoted_and_never_wins()
    {
        for (var i = 0; i < 4; i++)
        {
            var sql = $"SELECT range AS i, range * {i + 2} AS v FROM range(1000) ORDER BY i";
            var outcome = Remote(sql, grid.H1, grid.H2, grid.Cheater);
            Assert.Null(BatchComparer.Difference(Local(sql), outcome.Result));
            Assert.True(outcome.Meta.Verified);
            Assert.NotEqual(grid.Cheater.NodeId, outcome.Meta.Winner);
            Assert.DoesNotContain(grid.Cheater.NodeId, CommitCertificate.Verify(outcome.Meta.Certificate!, 2).Hosts);
        }
    }

    [Fact]
    public void An_equivocating_host_is_detected_and_the_rows_come_from_another_host()
    {
        // The equivocator commits first (the others are SIMULATED 1 s slower), so it is fetched first; on a loaded
        // machine it may still lose the race, so try a few times until it was tried.
        const string sql = "SELECT range AS i, 'v' || range AS s FROM range(20000) ORDER BY i";
        var expected = Local(sql);
        AssertEquivocatorCaught(() => Remote(sql, grid.Equivocator, grid.H4, grid.H5), expected, "fetched");
    }

    /// <summary>Runs <paramref name="query"/> until the equivocator was fetched from (it may lose the race on a loaded machine): always the right rows, never its.</summary>
    private void AssertEquivocatorCaught(Func<QueryOutcome> query, ResultSet expected, string rowsDelivery) =>
        AssertRejected(query, expected, rowsDelivery, grid.Equivocator, "equivocation", "the equivocator was never fetched from");

    /// <summary>
    /// Runs <paramref name="query"/> until <paramref name="liar"/>'s answer was read and rejected for <paramref name="reason"/>
    /// (on a loaded machine it may come after the quorum and be released unread): every answer verified, the right rows
    /// (when <paramref name="expected"/> is given), never the liar's.
    /// </summary>
    private void AssertRejected(Func<QueryOutcome> query, ResultSet? expected, string rowsDelivery, HostProcess liar, string reason, string never)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var outcome = query();
            if (expected is not null)
            {
                Assert.Null(BatchComparer.Difference(expected, outcome.Result));
            }
            Assert.Equal((true, rowsDelivery), (outcome.Meta.Verified, outcome.Meta.RowsDelivery));
            Assert.NotEqual(liar.NodeId, outcome.Meta.Winner);
            if ((outcome.Meta.Rejected ?? "").Contains(liar.NodeId, StringComparison.Ordinal))
            {
                Assert.Contains(reason, outcome.Meta.Rejected);
                return;
            }
        }
        Assert.Fail(never);
    }

    [Fact]
    public void An_equivocating_host_is_caught_on_rows_sent_with_its_commit()
    {
        // A small result: every host sends its rows with its commit; the equivocator's rows do not hash to what it signed.
        // A requester of its own: the fixture's may already hold evidence against the equivocator and leave it out.
        using var fresh = new Requester(grid.Root, "requester-inline", ("scheduler.progress_interval_ms", "200"), ("scheduler.offer_timeout_ms", "10000"));
        fresh.JoinAndLearn(grid.H1.Address, 3);
        const string sql = "SELECT range AS i, 'v' || range AS s FROM range(50) ORDER BY i";
        var expected = Local(sql);
        var overrides = new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 3, Quorum = 2, Nodes = [grid.Equivocator.NodeId, grid.H4.NodeId, grid.H5.NodeId] };
        AssertEquivocatorCaught(() => fresh.Host.Node.Query(sql, overrides), expected, "with_commit");
    }

    [Fact]
    public void A_host_that_sends_more_rows_with_its_commit_than_allowed_is_refused_when_read()
    {
        // ~800 KB of rows: far over the 64 KiB the dispatch allows with a commit, so honest hosts hold them for a Fetch
        // and the SIMULATED over-sender sends them all with its commit. It commits first (H4 and H5 are 1 s slower), so
        // its answer is the one read (speculatively, before the quorum) — and refused at the first frame past the limit;
        // an honest host's rows are fetched.
        const string sql = "SELECT range AS i FROM range(100000)";
        AssertRejected(() => Remote(sql, grid.OverSender, grid.H4, grid.H5), Local(sql), "fetched", grid.OverSender,
            $"{grid.OverSender.NodeId}: protocol: the host sent more than the 65536 bytes of rows the dispatch allowed inline", "the over-sender's rows were never read");
    }

    [Fact]
    public void Rows_sent_with_a_commit_the_dispatch_did_not_ask_for_are_refused_and_judged_malformed()
    {
        // A requester that speaks 1.0 never asks for rows with the commit; the SIMULATED over-sender sends them anyway.
        // Then min_trust => 0 selects it whatever its standing, so the refusal happens on the query itself.
        using var old = new Requester(grid.Root, "requester-1-0", ("protocol.version", "1.0.0"), ("scheduler.offer_timeout_ms", "10000"));
        old.JoinAndLearn(grid.H1.Address, grid.All.Count(h => !h.HasExited));
        // H4 and H5 commit 1 s late, so the over-sender's answer is read before they make the quorum.
        var three = new[] { grid.OverSender.NodeId, grid.H4.NodeId, grid.H5.NodeId };

        // Under the default policy its canary is refused the same way: it fails vetting and is never selected.
        Assert.True(old.Host.Node.Query("SELECT 1 AS one", new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 2, Quorum = 2, Nodes = three }).Meta.Verified);
        var peer = old.Host.Node.GridIfStarted!.Membership.Find(grid.OverSender.NodeId)!;
        var config = old.Host.Config.Effective().Config;
        var waited = Stopwatch.StartNew();
        while (old.Host.Node.Trust.Assess(peer, config, new QueryOverrides()).Standing != Duckton.Node.Trust.Standing.Failed && waited.Elapsed < TimeSpan.FromSeconds(15))
        {
            Thread.Sleep(100);
        }
        Assert.Equal(Duckton.Node.Trust.Standing.Failed, old.Host.Node.Trust.Assess(peer, config, new QueryOverrides()).Standing);

        var overrides = new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 3, Quorum = 2, MinTrust = 0, Nodes = three };
        AssertRejected(() => old.Host.Node.Query("SELECT 7 AS seven", overrides), null, "fetched", grid.OverSender,
            $"{grid.OverSender.NodeId}: protocol: the host sent rows with its commit that the dispatch did not ask for", "the over-sender's answer was never read before the quorum");
        Assert.Contains(old.Host.Node.Trust.Store.Receipts(grid.OverSender.NodeId), r => r.Verdict == Duckton.Core.Trust.Verdict.Malformed);
    }

    [Fact]
    public void A_host_that_stalls_after_the_first_of_its_inline_rows_is_replaced()
    {
        const string sql = "SELECT range AS i FROM range(10)";
        var sw = Stopwatch.StartNew();
        var outcome = Remote(sql, grid.StreamStaller, grid.H4, grid.H5);
        Assert.Null(BatchComparer.Difference(Local(sql), outcome.Result));
        Assert.True(outcome.Meta.Verified);
        Assert.Equal("with_commit", outcome.Meta.RowsDelivery);
        Assert.NotEqual(grid.StreamStaller.NodeId, outcome.Meta.Winner);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"took {sw.Elapsed}");
    }

    [Fact]
    public void A_host_sigkilled_mid_stream_does_not_fail_the_query()
    {
        const string sql = "SELECT range AS i FROM range(400000)";
        var expected = Local(sql);
        for (var attempt = 0; attempt < 5 && !grid.Dier.HasExited; attempt++)
        {
            var outcome = Remote(sql, grid.Dier, grid.H4, grid.H5);
            Assert.Null(BatchComparer.Difference(expected, outcome.Result));
            Assert.True(outcome.Meta.Verified);
            Assert.NotEqual(grid.Dier.NodeId, outcome.Meta.Winner);
            var deadline = Stopwatch.StartNew();
            while (!grid.Dier.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(2))
            {
                Thread.Sleep(50);
            }
        }
        Assert.True(grid.Dier.HasExited, "the SIMULATED dying host should have killed itself mid-stream");
    }

    [Fact]
    public void A_host_that_never_commits_is_not_waited_for()
    {
        var sw = Stopwatch.StartNew();
        var outcome = Remote("SELECT 7 AS seven", grid.Staller, grid.H1, grid.H2);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
        Assert.True(outcome.Meta.Verified);
        Assert.NotEqual(grid.Staller.NodeId, outcome.Meta.Winner);
    }

    [Fact]
    public void A_newcomer_that_does_not_answer_its_canary_is_named_in_the_shortfall()
    {
        // A requester of its own, so no host is vetted yet: the staller never commits its canary.
        using var fresh = new Requester(grid.Root, "requester-vetting");
        fresh.JoinAndLearn(grid.H1.Address, grid.All.Count(h => !h.HasExited));
        var e = Assert.Throws<QueryFailedException>(() => fresh.Host.Node.Query("SELECT 1 AS one",
            new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 2, Quorum = 2, Nodes = [grid.H1.NodeId, grid.Staller.NodeId] }));
        Assert.Contains("not enough hosts yet: 1 of 2 can be selected, need quorum 2; 1 newcomer(s) have not passed their canary", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_that_stalls_mid_stream_is_replaced_by_another_agreeing_host()
    {
        const string sql = "SELECT range AS i FROM range(300000)";
        var outcome = Remote(sql, grid.StreamStaller, grid.H4, grid.H5);
        Assert.Null(BatchComparer.Difference(Local(sql), outcome.Result));
        Assert.True(outcome.Meta.Verified);
        Assert.NotEqual(grid.StreamStaller.NodeId, outcome.Meta.Winner);
    }

    [Theory]
    [InlineData("SELECT random() AS r")]
    [InlineData("SELECT now() AS t")]
    [InlineData("SELECT * FROM range(100) LIMIT 5")]
    public void Nondeterministic_sql_is_reported_unverifiable(string sql)
    {
        var outcome = Remote(sql, grid.H1, grid.H2, grid.H3);
        Assert.False(outcome.Meta.Verified);
        Assert.False(outcome.Meta.ExecutedLocally);
        Assert.NotNull(outcome.Meta.Unverifiable);
    }

    /// <summary>
    /// A host's sandbox worker hands a finished SELECT's DuckDB connection to its next job, and DuckDB keeps its random
    /// generator per connection: a job that reseeds it must not decide what the next job's <c>random()</c> returns. Both
    /// jobs go to one host, back to back, so its most recently used worker, instance and connection serve the second.
    /// </summary>
    [Fact]
    public void A_job_that_reseeds_a_hosts_random_generator_does_not_seed_the_next_job()
    {
        string seeded;
        using (var db = Duckton.DuckDB.DuckDBDatabase.Open(null, []))
        using (var connection = db.Connect())
        {
            connection.Execute("SELECT setseed(0.5)");
            seeded = ValueFormatter.Format(connection.QueryAll("SELECT random() AS r").Batches[0].Columns[0], 0)!;
        }
        var one = new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 1, Quorum = 1, Nodes = [grid.H1.NodeId] };
        for (var i = 0; i < 3; i++)
        {
            R.Host.Node.Query("SELECT setseed(0.5) AS s", one);
            var next = R.Host.Node.Query("SELECT random() AS r", one);
            Assert.False(next.Meta.ExecutedLocally);
            Assert.NotEqual(seeded, ValueFormatter.Format(next.Result.Batches[0].Columns[0], 0));
        }
    }

    [Fact]
    public void Verify_fast_accepts_the_first_commit_unverified()
    {
        var outcome = R.Host.Node.Query("SELECT 5 AS five", new QueryOverrides { Prefer = PlannerPreference.Remote, Verify = VerifyMode.Fast, Nodes = [grid.H1.NodeId, grid.H2.NodeId, grid.H3.NodeId] });
        Assert.False(outcome.Meta.Verified);
        Assert.Equal(1, outcome.Meta.Quorum);
    }

    [Fact]
    public void A_failing_query_is_an_error_naming_duckdbs_message()
    {
        var e = Assert.Throws<QueryFailedException>(() => Remote("SELECT * FROM no_such_table", grid.H1, grid.H2, grid.H3));
        Assert.False(e.Meta.ExecutedLocally);
        Assert.Contains("no_such_table", e.Message);
        var escape = Assert.Throws<QueryFailedException>(() => Remote("SELECT * FROM read_csv('/etc/passwd')", grid.H1, grid.H2, grid.H3));
        Assert.False(escape.Meta.Verified);
    }

    [Fact]
    public void Joining_one_seed_learns_every_host_through_gossip()
    {
        using var r = new Requester(grid.Root, "joiner-" + Guid.NewGuid().ToString("N")[..8]);
        r.Rows($"SELECT * FROM p2p_join(bootstrap => ['{grid.H1.Address}'])");
        var peers = r.Rows("SELECT node_id, addr, attestation, trust::VARCHAR, free_memory_bytes::VARCHAR, region, last_seen::VARCHAR FROM p2p_peers()");
        foreach (var h in grid.All.Where(h => !h.HasExited))
        {
            var row = Assert.Single(peers, p => p[0] == h.NodeId);
            Assert.Equal(h.Address, row[1]);
            Assert.Equal("L0", row[2]);
        }
        var status = r.Rows("SELECT key, value FROM p2p_status()").ToDictionary(x => x[0]!, x => x[1]);
        Assert.Equal("false", status["hosting"]);
    }

    /// <summary>
    /// A query that reached its quorum drains the losing host's connection (a cancel, then its End) with a bounded wait.
    /// That wait used to be a <c>Task.Delay</c> of 2 s raced with <c>WhenAny</c>: the End came within milliseconds, but
    /// the delay stayed queued and fired two seconds later, a live timer (and later a thread-pool item) per query. The
    /// process's live timers must not grow with the number of queries.
    /// </summary>
    [Fact]
    public void Finished_queries_leave_no_timers_behind()
    {
        const int queries = 60;
        for (var i = 0; i < 10; i++)
        {
            Remote("SELECT 42 AS answer", grid.H1, grid.H2, grid.H3);
        }
        var before = Timer.ActiveCount;
        for (var i = 0; i < queries; i++)
        {
            var outcome = Remote("SELECT 42 AS answer", grid.H1, grid.H2, grid.H3);
            Assert.True(outcome.Meta.Verified);
        }
        Thread.Sleep(200); // the losers' End frames arrive and their drains finish
        var drained = Timer.ActiveCount - before;
        // A few come and go with the node's own rhythm (gossip, write-behind, receipt deliveries); one per query would be 60.
        Assert.True(drained < queries / 4, $"{drained} more live timers after {queries} queries");
    }
}
