using Duckton.Core.Data;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Engine;

namespace Duckton.Sql.Tests;

/// <summary>
/// A lone SELECT that finished leaves its connection to the next job on the same instance, on the real libduckdb; the
/// one state a SELECT can leave there (DuckDB's random generator, reseeded by <c>setseed</c>) never reaches another job,
/// and a failed or cancelled job's connection is closed.
/// </summary>
public sealed class ConnectionReuseTests
{
    public ConnectionReuseTests() => DuckDBNative.InitializeFromLibrary();

    /// <summary>No warm-up in the background: the first job opens the one instance, and every later job takes it back.</summary>
    private static LockedDownEngine Engine() => new(EngineOptions.Default with { WarmInstances = 0, Threads = 1 });

    private static string Cell(ResultSet r) => ValueFormatter.Format(r.Batches[0].Columns[0], 0) ?? "<null>";

    /// <summary>What <c>random()</c> returns on a connection right after <c>setseed(0.5)</c>: the same on every connection.</summary>
    private static string SeededRandom()
    {
        using var db = DuckDBDatabase.Open(null, []);
        using var connection = db.Connect();
        connection.Execute("SELECT setseed(0.5)");
        return Cell(connection.QueryAll("SELECT random() AS r"));
    }

    [Fact]
    public void A_finished_select_leaves_its_connection_to_the_next_job()
    {
        using var engine = Engine();
        Assert.Equal("1", Cell(engine.Execute("SELECT 1 AS x")));
        var opened = engine.ConnectionsOpened;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("42", Cell(engine.Execute("SELECT 42 AS x")));
            Assert.Equal("7", Cell(StreamingExecutionTests.Streamed(engine, "SELECT 7 AS x")));
        }
        Assert.Equal(opened, engine.ConnectionsOpened);
    }

    [Theory]
    [InlineData("SELECT setseed(0.5) AS s")]
    [InlineData("SELECT \"SetSeed\"(0.5) AS s")]
    [InlineData("SELECT * FROM query('SELECT set' || 'seed(0.5) AS s')")]
    public void A_job_that_may_reseed_the_random_generator_does_not_hand_its_connection_on(string reseeding)
    {
        var seeded = SeededRandom();
        Assert.Equal(seeded, SeededRandom()); // the precondition: after the seed, random() is fixed on any connection

        using var engine = Engine();
        engine.Execute("SELECT 1 AS x");
        var opened = engine.ConnectionsOpened;
        engine.Execute(reseeding);
        Assert.Equal(opened, engine.ConnectionsOpened); // the reseeding job itself ran on the kept connection
        Assert.NotEqual(seeded, Cell(engine.Execute("SELECT random() AS r")));
        Assert.Equal(opened + 1, engine.ConnectionsOpened);
    }

    [Fact]
    public void A_failed_job_has_its_connection_closed_and_a_cancelled_one_hands_it_on_to_a_next_job_that_runs_normally()
    {
        using var engine = Engine();
        engine.Execute("SELECT 1 AS x");
        var opened = engine.ConnectionsOpened;

        Assert.Throws<DuckDBException>(() => engine.Execute("SELECT error('boom') AS x"));
        Assert.Equal("2", Cell(engine.Execute("SELECT 2 AS x")));
        Assert.Equal(opened + 1, engine.ConnectionsOpened);

        // Cancelled mid-stream (a host that lost the race at quorum, a third of a grid's jobs): the connection serves on.
        for (var i = 0; i < 3; i++)
        {
            using var cts = new CancellationTokenSource();
            Assert.ThrowsAny<OperationCanceledException>(() => engine.ExecuteStreaming("SELECT i FROM range(100000000000) t(i)", _ => { }, _ => cts.Cancel(), cts.Token));
            Assert.Equal("3", Cell(engine.Execute("SELECT 3 AS x")));
        }
        Assert.Equal(opened + 1, engine.ConnectionsOpened);
    }

    /// <summary>
    /// What handing a cancelled job's connection on relies on: a cancel can call <c>duckdb_interrupt</c> just after the
    /// statement ended, and DuckDB must not let that stop the connection's next statement.
    /// </summary>
    [Fact]
    public void An_interrupt_that_reaches_an_idle_connection_does_not_stop_its_next_statement()
    {
        using var db = DuckDBDatabase.Open(null, []);
        using var connection = db.Connect();
        connection.Execute("SELECT 1");
        connection.Interrupt();
        Assert.Equal("42", Cell(connection.QueryAll("SELECT 42 AS x")));
    }

    [Theory]
    [InlineData("SELECT 42", false)]
    [InlineData("SELECT i FROM range(10) t(i) ORDER BY i", false)]
    [InlineData("select SETSEED(0.1)", true)]
    [InlineData("SELECT * FROM query_table('t')", true)]
    [InlineData("SELECT * FROM json_execute_serialized_sql('{}')", true)]
    [InlineData("SELECT U&\"\\0073etseed\"(0.1)", true)] // DuckDB 1.5 refuses escaped names; a later one might not
    [InlineData("SELECT 1 AS query_id", true)] // a false alarm: it only costs the next job a connection
    public void Reseeding_is_recognised_conservatively_on_the_raw_text(string sql, bool mayReseed) =>
        Assert.Equal(mayReseed, LockedDownEngine.MayReseed(sql));
}
