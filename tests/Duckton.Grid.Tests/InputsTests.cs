using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.Engine;
using Duckton.Node;

namespace Duckton.Grid.Tests;

/// <summary>
/// Real host processes sharing local data: H1–H3 each share their own copy of a parquet + CSV directory
/// (<c>storage.allowed_local_paths</c>), and H3's copy has drifted. Plus an equivocator and a 1 s slower honest host for
/// the requester's spill tests; the requester buffers at most 1 MiB before spilling.
/// </summary>
public sealed class InputsFixture : IDisposable
{
    public InputsFixture()
    {
        Root = Directory.CreateTempSubdirectory("duckton-inputs-tests-").FullName;
        Requester = new Requester(Root, "requester", ("scheduler.progress_interval_ms", "200"), ("scheduler.offer_timeout_ms", "10000"),
            ("transport.result.max_buffer_bytes", "1048576"));
        // The data: one parquet file written by DuckDB, one CSV; each host gets its own copy.
        var master = Path.Combine(Root, "master");
        Directory.CreateDirectory(master);
        using (var c = Requester.Database.Connect())
        {
            c.Execute($"COPY (SELECT i AS id, i % 7 AS region, (i * 3) % 101 AS amount FROM range(5000) t(i)) TO '{master}/sales.parquet' (FORMAT parquet)");
        }
        File.WriteAllText(Path.Combine(master, "regions.csv"), "region,name\n" + string.Join("\n", Enumerable.Range(0, 7).Select(i => $"{i},r{i}")) + "\n");
        Data = new string[3];
        for (var i = 0; i < 3; i++)
        {
            Data[i] = Path.Combine(Root, $"data-h{i + 1}");
            Directory.CreateDirectory(Data[i]);
            foreach (var f in Directory.GetFiles(master))
            {
                File.Copy(f, Path.Combine(Data[i], Path.GetFileName(f)));
            }
            Directory.CreateDirectory(Path.Combine(Root, $"h{i + 1}"));
            File.WriteAllText(Path.Combine(Root, $"h{i + 1}", "config.toml"), $"[storage]\nallowed_local_paths = [\"{Data[i]}\"]\n");
        }
        // Source drift: H3's CSV names one region differently.
        File.WriteAllText(Path.Combine(Data[2], "regions.csv"), File.ReadAllText(Path.Combine(master, "regions.csv")).Replace("3,r3", "3,DRIFTED", StringComparison.Ordinal));

        H1 = HostProcess.Start(Root, "h1");
        var seed = new[] { "--seed", H1.Address };
        var starts = new[]
        {
            HostProcess.StartAsync(Root, "h2", seed),
            HostProcess.StartAsync(Root, "h3", seed),
            HostProcess.StartAsync(Root, "equivocator", [.. seed, "--simulate", "equivocate"]),
            HostProcess.StartAsync(Root, "slow", [.. seed, "--simulate-commit-delay-ms", "1000"]),
        };
        Task.WaitAll(starts);
        (H2, H3, Equivocator, Slow) = (starts[0].Result, starts[1].Result, starts[2].Result, starts[3].Result);
        Requester.Rows($"SELECT * FROM p2p_join(bootstrap => ['{H1.Address}'])");
        foreach (var h in new[] { H1, H2, H3, Slow })
        {
            Requester.Host.Node.Query("SELECT 1 AS warm WHERE false", new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 1, Quorum = 1, Nodes = [h.NodeId] }).Result.Dispose();
        }
    }

    public string Root { get; }
    public string[] Data { get; }
    public HostProcess H1 { get; }
    public HostProcess H2 { get; }
    public HostProcess H3 { get; }
    public HostProcess Equivocator { get; }
    public HostProcess Slow { get; }
    public Requester Requester { get; }
    public string SpillDirectory => Path.Combine(Requester.ConfigDirectory, "tmp");

    public string[] SpillFiles() => Directory.Exists(SpillDirectory) ? Directory.GetFiles(SpillDirectory, "spill-*") : [];

    public void Dispose() => FixtureTeardown.Run(Requester, [H1, H2, H3, Equivocator, Slow], Root);
}

[CollectionDefinition(Name)]
public sealed class InputsCollection : ICollectionFixture<InputsFixture>
{
    public const string Name = "inputs";
}

[Collection(InputsCollection.Name)]
public sealed class InputsTests(InputsFixture grid)
{
    // The same query text on every host: share:// resolves under each host's own shared directory.
    private const string DriftSql = "SELECT r.name, sum(s.amount) AS total, count(*) AS n FROM 'share://sales.parquet' s JOIN read_csv('share://*.csv') r USING (region) GROUP BY r.name ORDER BY r.name";

    private static string Lit(string sql) => "'" + sql.Replace("'", "''", StringComparison.Ordinal) + "'";

    private string Fingerprint(int host) => Convert.ToHexStringLower(new LocalInputs([grid.Data[host]]).Snapshot(DriftSql).Fingerprint);

    private string Nodes(params HostProcess[] hosts) => GridFixture.Nodes(hosts);

    [Fact]
    public void Drifted_input_is_partitioned_out_and_the_majority_input_is_reported()
    {
        var honest = Fingerprint(0);
        var drifted = Fingerprint(2);
        Assert.Equal(honest, Fingerprint(1));
        Assert.NotEqual(honest, drifted);

        var options = $", nodes => {Nodes(grid.H1, grid.H2, grid.H3)}, replicas => 3, quorum => 2, prefer => 'remote'";
        var names = grid.Requester.Rows($"SELECT name FROM p2p_query({Lit(DriftSql)}{options})").Select(r => r[0]).ToList();
        Assert.Contains("r3", names);
        Assert.DoesNotContain("DRIFTED", names);

        var meta = grid.Requester.Meta(Lit(DriftSql), options);
        Assert.Equal("true", meta["verified"]);
        Assert.Equal(honest, meta["input_fingerprint"]);
        Assert.NotEqual(grid.H3.NodeId, meta["winner"]);
        // A query that reads no shared file has no input fingerprint, as before.
        Assert.Equal("<none>", grid.Requester.Meta("'SELECT 42 AS x'", options)["input_fingerprint"]);
    }

    /// <summary>The trust group's drift rows of <c>p2p_status()</c>: commits left out for other input, and queries that had any.</summary>
    private (long Partitions, long Queries) DriftStatus()
    {
        var r = grid.Requester.Rows("SELECT max(value) FILTER (key = 'drift_partitions'), max(value) FILTER (key = 'drift_queries') FROM p2p_status() WHERE \"group\" = 'trust'")[0];
        return (long.Parse(r[0]!, System.Globalization.CultureInfo.InvariantCulture), long.Parse(r[1]!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Commits_over_drifted_input_are_counted_as_drift_partitions_in_sql_and_on_the_dashboard()
    {
        var options = $", nodes => {Nodes(grid.H1, grid.H2, grid.H3)}, replicas => 3, quorum => 2, prefer => 'remote'";
        // H3's commit is counted when it arrives before the attempt ends (H1 and H2 may close the quorum first):
        // repeat the query until one attempt saw it (on a loaded machine H3 may be last many times in a row; a quorum of
        // three would not do: with no agreed commit there is nothing to have drifted from). Only H3 has other input, so a
        // query has at most one partition.
        string? drifting = null;
        for (var i = 0; i < 60 && drifting is null; i++)
        {
            var before = DriftStatus();
            var meta = grid.Requester.Meta(Lit(DriftSql), options);
            Assert.Equal("true", meta["verified"]);
            var after = DriftStatus();
            Assert.InRange(after.Partitions - before.Partitions, 0, 1);
            Assert.Equal(after.Partitions - before.Partitions, after.Queries - before.Queries);
            drifting = after.Partitions > before.Partitions ? meta["job_id"] : null;
        }
        Assert.True(drifting is not null, "H3's drifted commit was not counted in 60 queries");
        // A query on the same input everywhere drifts nothing.
        var quiet = DriftStatus();
        Assert.Equal("true", grid.Requester.Meta("'SELECT 42 AS x'", options)["verified"]);
        Assert.Equal(quiet, DriftStatus());

        // The dashboard reads the same stored counts: the totals, and the drifted job's own partition.
        var verification = new Duckton.Dashboard.DashboardData(grid.Requester.Host, TimeProvider.System).Snapshot()["verification"]!;
        Assert.Equal(quiet.Partitions, (long)verification["drift"]!["partitions"]!);
        Assert.Equal(quiet.Queries, (long)verification["drift"]!["queries"]!);
        Assert.Equal(1, grid.Requester.Host.Trust.Verification(drifting).DriftedOfJob);
        Assert.Equal(0, grid.Requester.Host.Trust.Verification("no-such-job").DriftedOfJob);
    }

    [Fact]
    public void Pinning_an_input_keeps_hosts_on_other_input_out()
    {
        var honest = Fingerprint(0);
        var drifted = Fingerprint(2);
        var three = $", nodes => {Nodes(grid.H1, grid.H2, grid.H3)}, replicas => 3, prefer => 'remote'";

        // Pinned to the drifted snapshot, only H3 has it: H1 and H2 refuse before running, so quorum 2 cannot be reached.
        var failed = grid.Requester.Meta(Lit(DriftSql), three + $", quorum => 2, input_pin => '{drifted}'");
        Assert.Contains("input drift", failed["error"]);
        Assert.Contains($"differs from input_pin {drifted}", failed["error"]);

        // With quorum 1 the pinned snapshot is served, although two hosts with the majority's copy were asked too.
        var pinned = grid.Requester.Meta(Lit(DriftSql), three + $", quorum => 1, input_pin => '{drifted}'");
        Assert.Equal(grid.H3.NodeId, pinned["winner"]);
        Assert.Equal(drifted, pinned["input_fingerprint"]);
        var names = grid.Requester.Rows($"SELECT name FROM p2p_query({Lit(DriftSql)}{three}, quorum => 1, input_pin => '{drifted}')").Select(r => r[0]).ToList();
        Assert.Contains("DRIFTED", names);

        // Pinned to the majority's snapshot, H3 is kept out even where it would be enough on its own.
        var majority = grid.Requester.Meta(Lit(DriftSql), three + $", quorum => 2, input_pin => '{honest}'");
        Assert.Equal("true", majority["verified"]);
        Assert.Equal(honest, majority["input_fingerprint"]);
        Assert.NotEqual(grid.H3.NodeId, majority["winner"]);
        var alone = grid.Requester.Meta(Lit(DriftSql), $", nodes => {Nodes(grid.H3)}, replicas => 1, quorum => 1, prefer => 'remote', input_pin => '{honest}'");
        Assert.Contains("input drift", alone["error"]);

        var bad = grid.Requester.Meta(Lit(DriftSql), three + ", input_pin => 'abc'");
        Assert.Contains("input_pin", bad["error"]);
    }

    private const string BigSql = "SELECT i, i * 7 AS j, 'row-' || i AS s FROM range(200000) t(i) ORDER BY i";

    [Fact]
    public void A_result_beyond_the_buffer_is_spilled_verified_and_identical_to_the_local_answer()
    {
        var node = grid.Requester.Host.Node;
        using var local = node.Query(BigSql, new QueryOverrides { Prefer = PlannerPreference.Local }).Result;
        var remote = node.Query(BigSql, new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 2, Quorum = 2, Nodes = [grid.H1.NodeId, grid.H2.NodeId] });
        string path;
        using (var result = remote.Result)
        {
            Assert.True(remote.Meta.Verified);
            var spool = Assert.IsType<SpooledBatches>(result.Batches);
            Assert.True(spool.Spilled);
            path = spool.FilePath!;
            Assert.Equal(grid.SpillDirectory, Path.GetDirectoryName(path));
            Assert.True(File.Exists(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(grid.SpillDirectory));
            Assert.Equal(local.RowCount, result.RowCount);
            Assert.Null(BatchComparer.Difference(local, result));
            Assert.Equal(ResultHashing.Compute(local), ResultHashing.Compute(result));
        }
        Assert.False(File.Exists(path));

        // Through SQL: p2p_query scans the spill file lazily; the file is gone once the statement is done.
        var options = $", nodes => {Nodes(grid.H1, grid.H2)}, replicas => 2, quorum => 2, prefer => 'remote'";
        var row = Assert.Single(grid.Requester.Rows($"SELECT count(*)::VARCHAR, sum(j)::VARCHAR, max(s) FROM p2p_query({Lit(BigSql)}{options})"));
        Assert.Equal(new string?[] { "200000", "139999300000", "row-99999" }, row);
        Assert.Empty(grid.SpillFiles());
    }

    [Fact]
    public void An_equivocators_spilled_rows_are_rejected_and_deleted()
    {
        var node = grid.Requester.Host.Node;
        using var local = node.Query(BigSql, new QueryOverrides { Prefer = PlannerPreference.Local }).Result;
        // The equivocator commits about 1 s before the slow honest host, so it is fetched from first (retry if it lost the race).
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var outcome = node.Query(BigSql, new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 2, Quorum = 2, Nodes = [grid.Equivocator.NodeId, grid.Slow.NodeId] });
            using var result = outcome.Result;
            Assert.Null(BatchComparer.Difference(local, result));
            Assert.Equal(grid.Slow.NodeId, outcome.Meta.Winner);
            // Only the accepted result's spill file is left: the equivocator's was deleted when its rows failed to re-hash.
            Assert.Equal([((SpooledBatches)result.Batches).FilePath!], grid.SpillFiles());
            if ((outcome.Meta.Rejected ?? "").Contains(grid.Equivocator.NodeId, StringComparison.Ordinal))
            {
                Assert.Contains("equivocation", outcome.Meta.Rejected);
                result.Dispose();
                Assert.Empty(grid.SpillFiles());
                return;
            }
        }
        Assert.Fail("the equivocator was never fetched from");
    }
}
