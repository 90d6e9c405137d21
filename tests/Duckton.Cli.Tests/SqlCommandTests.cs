namespace Duckton.Cli.Tests;

public class SqlCommandTests : IDisposable
{
    private readonly string _configDir = Directory.CreateTempSubdirectory("duckton-cli-").FullName;

    public void Dispose() => Directory.Delete(_configDir, recursive: true);

    private CliRunner.Result Sql(string? stdin, params string[] args) => CliRunner.Duckton(stdin, ["sql", "--config-dir", _configDir, .. args]);

    [Fact]
    public void The_README_command_prints_INTEGER_42_through_the_repository_script()
    {
        var r = CliRunner.Run(Path.Combine(CliRunner.RepoRoot, "duckton"),
            ["sql", "--config-dir", _configDir, "--format", "csv", "-c", "SELECT typeof(answer) AS t, answer FROM p2p_query('SELECT 42 AS answer')"],
            timeout: TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("t,answer\nINTEGER,42\n", r.Stdout);
    }

    [Fact]
    public void Box_output_shows_names_types_and_aligns_numbers_right()
    {
        var r = Sql(null, "-c", "SELECT * FROM p2p_query('SELECT 42 AS answer, ''duck'' AS name')");
        Assert.Equal(0, r.ExitCode);
        var expected = """
            ┌────────┬─────────┐
            │ answer │  name   │
            │ int32  │ varchar │
            ├────────┼─────────┤
            │     42 │ duck    │
            └────────┴─────────┘

            """.Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Equal(expected, r.Stdout);
    }

    [Fact]
    public void A_query_whose_persisted_seed_does_not_answer_names_the_seed_and_why()
    {
        // A port nothing listens on: bound, then released.
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var seed = $"127.0.0.1:{((System.Net.IPEndPoint)probe.LocalEndpoint).Port}";
        probe.Stop();
        Assert.Equal(0, Sql(null, "-c", $"SELECT * FROM p2p_join(bootstrap => ['{seed}'])").ExitCode);
        // A new process joins its persisted seed (several rounds), then says which seed failed and how.
        var r = Sql(null, "-c", "SELECT * FROM p2p_query('SELECT 1', prefer => 'remote')");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"none of this node's bootstrap seeds ({seed}) answered", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("refused", r.Stderr, StringComparison.OrdinalIgnoreCase);
        // auto plans it locally instead.
        Assert.Equal("x\n1\n", Sql(null, "--format", "csv", "-c", "SELECT * FROM p2p_query('SELECT 1 AS x')").Stdout);
    }

    [Fact]
    public void Json_output_is_an_array_of_row_objects()
    {
        var r = Sql(null, "--format", "json", "-c", "SELECT i, 'v' || i AS s, [i] AS l FROM range(2) t(i)");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("[{\"i\":0,\"s\":\"v0\",\"l\":[0]},\n{\"i\":1,\"s\":\"v1\",\"l\":[1]}]\n", r.Stdout);
    }

    [Fact]
    public void Statements_run_in_order_and_a_failure_stops_with_exit_1_and_the_error_on_stderr()
    {
        var r = Sql(null, "--format", "csv", "-c", "SELECT 1 AS a", "-c", "SELECT * FROM p2p_query('SELECT * FROM missing_table')", "-c", "SELECT 3 AS c");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("a\n1\n", r.Stdout);
        Assert.Contains("missing_table", r.Stderr);
        // One prefix naming the kind of error, as DuckDB's own shell prints it (never "Error: Binder Error: ...").
        Assert.StartsWith("Binder Error: p2p_query:", r.Stderr);
        Assert.DoesNotContain("Error: Binder Error", r.Stderr);
    }

    [Fact]
    public void Csv_quotes_fields_and_leaves_NULL_empty()
    {
        var r = Sql(null, "--format", "csv", "-c", "SELECT 'a,b' AS x, NULL AS y, 'say \"hi\"' AS z");
        Assert.Equal("x,y,z\n\"a,b\",,\"say \"\"hi\"\"\"\n", r.Stdout);
    }

    [Fact]
    public void The_shell_reads_statements_from_standard_input()
    {
        var r = Sql("SELECT 1 AS one;\n.mode csv\nSELECT answer FROM p2p_query('SELECT 42 AS answer')\n;\n", "--format", "box");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("│  one  │", r.Stdout);
        Assert.EndsWith("answer\n42\n", r.Stdout);
    }

    [Fact]
    public void An_unknown_format_is_refused()
    {
        var r = Sql(null, "--format", "xml", "-c", "SELECT 1");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("xml", r.Stderr);
    }
}
