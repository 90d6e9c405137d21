namespace Duckton.Library.Tests;

public sealed class LocalQueryTests : IDisposable
{
    private readonly TempDirs _dirs = new();

    public void Dispose() => _dirs.Dispose();

    private DucktonNode NewNode() => new(new DucktonNodeOptions { ConfigDirectory = _dirs.New() });

    [Fact]
    public async Task A_local_query_has_typed_columns_typed_values_and_verification_metadata()
    {
        await using var node = NewNode();
        using var result = await node.QueryAsync(
            "SELECT 42 AS answer, 1.5::DECIMAL(4,2) AS d, 'x' AS s, [1, 2] AS l, {'a': 7} AS st, DATE '2024-02-29' AS day, " +
            "TIMESTAMPTZ '2024-01-01 12:00:00+00' AS ts, NULL::BIGINT AS missing, 3::HUGEINT AS h, INTERVAL 2 DAYS AS i");
        Assert.Equal(["answer", "d", "s", "l", "st", "day", "ts", "missing", "h", "i"], result.Columns.Select(c => c.Name));
        Assert.Equal(["INTEGER", "DECIMAL(4,2)", "VARCHAR", "INTEGER[]", "STRUCT(a INTEGER)", "DATE", "TIMESTAMP WITH TIME ZONE", "BIGINT", "HUGEINT", "INTERVAL"],
            result.Columns.Select(c => c.DuckDBType));
        var row = Assert.Single(await result.ToListAsync());
        Assert.Equal(42, row["answer"]);
        Assert.Equal(1.50m, row["d"]);
        Assert.Equal("x", row["s"]);
        Assert.Equal(new object?[] { 1, 2 }, (object?[])row["l"]!);
        Assert.Equal(7, ((IReadOnlyDictionary<string, object?>)row["st"]!)["a"]);
        Assert.Equal(new DateOnly(2024, 2, 29), row["day"]);
        Assert.Equal(new DateTimeOffset(2024, 1, 1, 12, 0, 0, TimeSpan.Zero), row["ts"]);
        Assert.True(row.IsNull(7));
        Assert.Equal((Int128)3, row["h"]);
        Assert.Equal("2 days", row["i"]); // no .NET counterpart: DuckDB's text
        Assert.Equal(42L, row.Get<long>("ANSWER")); // names are case-insensitive; numbers widen
        Assert.Equal(typeof(int), result.Columns[0].ClrType);

        var v = result.Verification;
        Assert.True(v.ExecutedLocally);
        Assert.True(v.Verified);
        Assert.Equal(1, v.RowCount);
        Assert.Null(v.Certificate); // only grid results carry hosts' commits
        Assert.Matches("^[0-9a-f]{64}$", v.ResultHash!);
        Assert.Equal(v.ResultHash, CertificateVerifier.ComputeResultHash(result));
    }

    [Fact]
    public async Task Rows_stream_as_column_batches_and_as_records()
    {
        await using var node = NewNode();
        using var result = await node.QueryAsync("SELECT i, i * 2 AS twice FROM range(5000) t(i) ORDER BY i");
        var batches = 0;
        long sum = 0;
        var rows = 0;
        await foreach (var batch in result.ReadBatchesAsync())
        {
            batches++;
            rows += batch.RowCount;
            sum += batch.GetColumn<long>(1).Sum();
        }
        Assert.True(batches >= 2, $"5000 rows came in {batches} batch(es); DuckDB's chunks hold 2048");
        Assert.Equal(5000, rows);
        Assert.Equal(2L * (4999L * 5000 / 2), sum);
        var i = 0L;
        await foreach (var row in result.ReadRowsAsync())
        {
            Assert.Equal(i++, row.Get<long>(0));
        }
        Assert.Equal(5000, i);
    }

    public sealed record Person(string Name, int Age);

    public sealed class Settable
    {
        public string? Name { get; set; }
        public long Age { get; set; }
        public DateTime? Born { get; set; }
    }

    [Fact]
    public async Task QueryAsync_of_T_maps_columns_to_records_by_name()
    {
        await using var node = NewNode();
        var people = await node.QueryAsync<Person>("SELECT * FROM (VALUES (30, 'ann'), (41, 'bob')) t(AGE, name) ORDER BY name");
        Assert.Equal([new Person("ann", 30), new Person("bob", 41)], people.Items);
        Assert.True(people.Verification.Verified);

        var settable = await node.QueryAsync<Settable>("SELECT 'cy' AS name, 7::TINYINT AS age, DATE '2000-01-02' AS born, 'ignored' AS extra");
        var s = Assert.Single(settable.Items);
        Assert.Equal(("cy", 7L, new DateTime(2000, 1, 2)), (s.Name, s.Age, s.Born));

        var e = await Assert.ThrowsAsync<InvalidCastException>(() => node.QueryAsync<Person>("SELECT 'x' AS name, 'not a number' AS age"));
        Assert.Contains("age", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_query_throws_QueryFailedException_with_its_metadata()
    {
        await using var node = NewNode();
        var e = await Assert.ThrowsAsync<QueryFailedException>(() => node.QueryAsync("SELECT * FROM no_such_table"));
        Assert.Contains("no_such_table", e.Message, StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{32}$", e.Verification.JobId);
        Assert.False(e.Verification.Verified);
        Assert.NotNull(e.Verification.Error);

        // Escapes fail as in SQL's p2p_query: the engine is locked down.
        await Assert.ThrowsAsync<QueryFailedException>(() => node.QueryAsync("SELECT * FROM read_csv('/etc/passwd')"));
        // No peers: a remote-only query says so.
        var remote = await Assert.ThrowsAsync<QueryFailedException>(() => node.QueryAsync("SELECT 1", new QueryOptions { Placement = QueryPlacement.Remote }));
        Assert.Contains("peers", remote.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_the_token_interrupts_a_running_query()
    {
        await using var node = NewNode();
        using var warm = await node.QueryAsync("SELECT 1"); // engine started
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var started = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.QueryAsync("SELECT count(*) FROM range(100000000000) a(x) WHERE x % 7 = 3", cancellationToken: cts.Token));
        // The query would run for many minutes; generous for a loaded machine, far below its run time.
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"cancellation took {started.Elapsed}");
        using var after = await node.QueryAsync("SELECT 2 AS two"); // the node still works
        Assert.Equal(2, (await after.ToListAsync())[0]["two"]);
    }

    [Fact]
    public async Task A_token_cancelled_before_the_call_never_runs_it_and_the_timeout_option_is_a_deadline()
    {
        await using var node = NewNode();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.QueryAsync("SELECT 1", cancellationToken: new CancellationToken(canceled: true)));
        var e = await Assert.ThrowsAsync<QueryFailedException>(() => node.QueryAsync("SELECT count(*) FROM range(100000000000) a(x) WHERE x % 7 = 3",
            new QueryOptions { Timeout = TimeSpan.FromMilliseconds(300) }));
        Assert.Contains("timeout_ms", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_version_is_the_builds_and_p2p_info_reports_the_same()
    {
        await using var node = NewNode();
        var informational = typeof(DucktonNode).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;
        Assert.Equal(informational.Split('+')[0], DucktonNode.Version);
        // SemVer 2.0 (MinVer: the tag's version, or 0.0.0-alpha.0.<height> without tags), never the old fixed 0.1.0.
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", DucktonNode.Version);
        var info = await node.GetInfoAsync();
        Assert.Equal(DucktonNode.Version, info["extension_version"]);
        Assert.Equal("duckdb-p2p", info["protocol_name"]);
    }
}
