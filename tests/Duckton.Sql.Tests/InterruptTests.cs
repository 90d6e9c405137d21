using System.Diagnostics;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;

namespace Duckton.Sql.Tests;

/// <summary>DuckDB's interrupt (<c>duckdb_interrupt</c> on the client's connection) cancels a running p2p_query.</summary>
[Collection(SqlCollection.Name)]
public class InterruptTests(SqlFixture db)
{
    /// <summary>Minutes of work for the inner engine (10^11 rows hashed).</summary>
    private const string Long = "SELECT sum(hash(i)) AS s FROM range(100000000000) t(i)";

    [Fact]
    public void The_interrupt_flag_is_readable_with_this_libduckdb()
    {
        db.Query("SELECT 1"); // the API table is filled
        Assert.True(ClientInterrupt.Available, ClientInterrupt.Status);
    }

    [Theory]
    [InlineData("p2p_query")]
    [InlineData("p2p_query_meta")]
    public async Task Interrupt_cancels_a_running_local_query_and_stops_its_engine(string function)
    {
        using var connection = db.Database.Connect();
        var running = Task.Factory.StartNew(() => connection.QueryAll($"SELECT * FROM {function}('{Long}')"), TaskCreationOptions.LongRunning);
        // Wait until the inner engine really runs the statement.
        var wait = Stopwatch.StartNew();
        while (db.Host.Node.LocalQueriesRunning == 0 && wait.Elapsed < TimeSpan.FromSeconds(30) && !running.IsCompleted)
        {
            await Task.Delay(20);
        }
        Assert.True(db.Host.Node.LocalQueriesRunning > 0, "the inner query never started");
        await Task.Delay(300);
        Assert.False(running.IsCompleted, "the long query finished on its own");

        var sw = Stopwatch.StartNew();
        connection.Interrupt();
        var error = await Assert.ThrowsAsync<DuckDBException>(() => running.WaitAsync(TimeSpan.FromSeconds(30)));
        var returned = sw.Elapsed;
        Assert.Contains("Interrupted", error.Message, StringComparison.Ordinal);
        // Within 1 s on an idle machine; this one is shared, so allow a few (the query itself runs for minutes).
        Assert.True(returned < TimeSpan.FromSeconds(4), $"the interrupted statement returned after {returned.TotalMilliseconds:0} ms");

        // The inner engine was interrupted too, not left burning a core in the background.
        while (db.Host.Node.LocalQueriesRunning > 0 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        Assert.Equal(0, db.Host.Node.LocalQueriesRunning);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"the inner engine stopped after {sw.Elapsed.TotalMilliseconds:0} ms");

        // The connection works normally afterwards (DuckDB clears the flag when the next statement starts).
        var r = connection.QueryAll("SELECT * FROM p2p_query('SELECT 42 AS answer')");
        Assert.Equal(1, r.RowCount);
    }

    [Fact]
    public async Task An_interrupt_on_another_connection_does_not_cancel_this_query()
    {
        using var other = db.Database.Connect();
        using var connection = db.Database.Connect();
        var running = Task.Run(() => connection.QueryAll("SELECT * FROM p2p_query('SELECT count(*) AS n FROM range(30000000)')"));
        await Task.Delay(50);
        other.Interrupt();
        Assert.Equal(1, (await running).RowCount);
    }
}
