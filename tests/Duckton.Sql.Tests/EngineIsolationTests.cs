using System.Diagnostics;
using Duckton.DuckDB;

namespace Duckton.Sql.Tests;

[Collection(SqlCollection.Name)]
public class EngineIsolationTests(SqlFixture db)
{
    [Fact]
    public void State_created_by_one_job_is_gone_in_the_next()
    {
        db.Query("SELECT * FROM p2p_query('CREATE TABLE leaked AS SELECT 1 AS x')");
        db.Query("SELECT * FROM p2p_query('CREATE TABLE t2(x INT); INSERT INTO t2 VALUES (1); SELECT * FROM t2')");
        for (var i = 0; i < 4; i++)
        {
            var e = Assert.Throws<DuckDBException>(() => db.Query("SELECT * FROM p2p_query('SELECT * FROM leaked')"));
            Assert.Contains("leaked", e.Message);
            Assert.Throws<DuckDBException>(() => db.Query("SELECT * FROM p2p_query('SELECT * FROM t2')"));
        }
    }

    [Fact]
    public void A_script_of_several_statements_returns_the_last_result()
    {
        Assert.Equal("3", db.Scalar("SELECT x FROM p2p_query('CREATE TABLE s(x INT); INSERT INTO s VALUES (1), (2); SELECT sum(x) + 0 AS x FROM s')"));
    }

    [Fact]
    public void Timeout_interrupts_a_long_query_promptly()
    {
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<DuckDBException>(() => db.Query(
            "SELECT * FROM p2p_query('SELECT count(*) FROM range(100000000000) a', timeout_ms => 300)"));
        Assert.Contains("timeout_ms", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
    }

    [Fact]
    public void Concurrent_queries_each_get_their_own_answer()
    {
        var results = new string?[16];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            results[i] = db.Scalar($"SELECT v FROM p2p_query('SELECT {i} * 10 AS v')"));
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal((i * 10).ToString(System.Globalization.CultureInfo.InvariantCulture), results[i]);
        }
    }
}
