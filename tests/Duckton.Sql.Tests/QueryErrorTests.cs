using System.Text.RegularExpressions;
using Duckton.DuckDB;

namespace Duckton.Sql.Tests;

/// <summary>
/// p2p_query errors carry one error prefix (DuckDB's own, on the outer statement), the inner engine's cause without its
/// prefix and without its "Did you mean" suggestions (those name the inner engine's catalog), and a hint.
/// </summary>
[Collection(SqlCollection.Name)]
public class QueryErrorTests(SqlFixture db)
{
    private static int Prefixes(string message) => Regex.Matches(message, @"[A-Z][A-Za-z]* Error: ").Count;

    private string Fail(string innerSql) =>
        Assert.Throws<DuckDBException>(() => db.Query($"SELECT * FROM p2p_query('{innerSql.Replace("'", "''", StringComparison.Ordinal)}')")).Message;

    [Fact]
    public void A_missing_table_is_one_prefix_the_cause_and_what_to_do()
    {
        var message = Fail("SELECT * FROM no_such_table");
        Assert.Equal(1, Prefixes(message));
        Assert.DoesNotContain("Catalog Error:", message);
        Assert.Contains("p2p_query: the query failed (catalog error): Table with name no_such_table does not exist", message);
        Assert.Contains("Hint: p2p_query runs the query in its own locked-down engine", message);
        Assert.DoesNotContain("Did you mean", message);
    }

    [Fact]
    public void The_inner_engines_suggestions_do_not_leak()
    {
        // Plain DuckDB answers these with 'Did you mean "sqrt"?' and 'Did you mean "pg_class"?' style suggestions.
        foreach (var sql in new[] { "SELECT sqrtt(4)", "SELECT * FROM pg_clas", "SELECT * FROM duckdb_setting()" })
        {
            var message = Fail(sql);
            Assert.DoesNotContain("Did you mean", message);
            Assert.Equal(1, Prefixes(message));
            Assert.Contains("(catalog error)", message);
        }
    }

    [Fact]
    public void A_syntax_error_says_parser_error_once_and_keeps_the_position()
    {
        var message = Fail("SELEC 1");
        Assert.Equal(1, Prefixes(message));
        Assert.Contains("(parser error): syntax error at or near \"SELEC\"", message);
        Assert.Contains("Hint: fix the SQL syntax", message);
    }

    [Fact]
    public void Errors_of_our_own_get_the_function_name_once_and_meta_rows_are_cleaned_too()
    {
        var message = Assert.Throws<DuckDBException>(() => db.Query("SELECT * FROM p2p_query('SELECT 1', timeout_ms => -5)")).Message;
        Assert.Equal(1, Prefixes(message));
        Assert.Single(Regex.Matches(message, "p2p_query:"));

        var meta = db.Query("SELECT value FROM p2p_query_meta('SELECT sqrtt(4)') WHERE key = 'error'");
        var error = System.Text.Encoding.UTF8.GetString(meta.Batches[0].Columns[0].GetBytes(0));
        Assert.Contains("(catalog error)", error);
        Assert.DoesNotContain("Did you mean", error);
        Assert.Equal(0, Prefixes(error));
    }
}
