using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Duckton.Cli.Tests;

/// <summary>
/// The <c>duckton sql</c> shell as a user drives it: scripts piped into a real CLI process, and a real pseudo-terminal
/// for what only happens at a keyboard (Ctrl+C, the progress display).
/// </summary>
public partial class ShellTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-shell-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string ConfigDir => Path.Combine(_dir, "config");

    private CliRunner.Result Shell(string script, params string[] args) => CliRunner.Duckton(script, ["sql", "--config-dir", ConfigDir, .. args]);

    private const string Sample = "SELECT * FROM (VALUES (1, 'a|b', 1.5), (NULL, 'x', NULL)) t(i, s, d);\n";

    [Theory]
    [InlineData("box", """
        ┌───────┬─────────┬──────────────┐
        │   i   │    s    │      d       │
        │ int32 │ varchar │ decimal(2,1) │
        ├───────┼─────────┼──────────────┤
        │     1 │ a|b     │          1.5 │
        │  NULL │ x       │         NULL │
        └───────┴─────────┴──────────────┘

        """)]
    [InlineData("table", """
        +------+-----+------+
        | i    | s   | d    |
        +------+-----+------+
        | 1    | a|b | 1.5  |
        | NULL | x   | NULL |
        +------+-----+------+

        """)]
    [InlineData("markdown", """
        | i    | s    | d    |
        |-----:|------|-----:|
        | 1    | a\|b | 1.5  |
        | NULL | x    | NULL |

        """)]
    [InlineData("line", """
            i = 1
            s = a|b
            d = 1.5

            i = NULL
            s = x
            d = NULL

        """)]
    [InlineData("list", """
        i|s|d
        1|a|b|1.5
        NULL|x|NULL

        """)]
    [InlineData("csv", """
        i,s,d
        1,a|b,1.5
        ,x,

        """)]
    [InlineData("json", """
        [{"i":1,"s":"a|b","d":1.5},
        {"i":null,"s":"x","d":null}]

        """)]
    [InlineData("jsonlines", """
        {"i":1,"s":"a|b","d":1.5}
        {"i":null,"s":"x","d":null}

        """)]
    public void Each_mode_renders_rows_as_DuckDBs_shell_does(string mode, string expected)
    {
        var r = Shell($".mode {mode}\n{Sample}");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(expected.Replace("\r\n", "\n", StringComparison.Ordinal), r.Stdout);
        // --format takes the same modes.
        var c = CliRunner.Duckton(null, ["sql", "--config-dir", ConfigDir, "--format", mode, "-c", Sample.TrimEnd('\n', ';')]);
        Assert.True(c.ExitCode == 0, c.Stderr);
        Assert.Equal(r.Stdout, c.Stdout);
    }

    [Fact]
    public void Mode_without_an_argument_names_the_current_mode_and_a_wrong_one_is_refused()
    {
        var r = Shell(".mode\n.mode markdown\n.mode\n.mode xml\n");
        Assert.Equal("current output mode: box\ncurrent output mode: markdown\n", r.Stdout);
        Assert.Contains("mode should be one of: box csv json jsonlines line list markdown table", r.Stderr);
        Assert.Equal(1, r.ExitCode);
    }

    [Fact]
    public void Headers_off_drops_the_column_names_in_csv_and_list_and_on_brings_them_back()
    {
        // ".header" as DuckDB users type it: a unique prefix names the command.
        var r = Shell($".header off\n.mode csv\n{Sample}.mode list\n{Sample}.headers on\n{Sample}");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("1,a|b,1.5\n,x,\n1|a|b|1.5\nNULL|x|NULL\ni|s|d\n1|a|b|1.5\nNULL|x|NULL\n", r.Stdout);
    }

    [Fact]
    public void Nullvalue_replaces_NULL_in_every_text_mode_but_json_keeps_null()
    {
        var r = Shell($".nullvalue (nil)\n.mode csv\n{Sample}.mode list\n{Sample}.mode jsonlines\n{Sample}.mode box\nSELECT NULL::INTEGER AS n;\n.nullvalue ''\n.mode list\nSELECT NULL AS n;\n");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith("i,s,d\n1,a|b,1.5\n(nil),x,(nil)\ni|s|d\n1|a|b|1.5\n(nil)|x|(nil)\n{\"i\":1,\"s\":\"a|b\",\"d\":1.5}\n{\"i\":null,\"s\":\"x\",\"d\":null}\n", r.Stdout);
        Assert.Contains("│ (nil) │", r.Stdout);
        Assert.EndsWith("n\n\n", r.Stdout);
    }

    [Fact]
    public void Maxrows_limits_the_box_to_its_first_and_last_rows_and_0_shows_all()
    {
        var r = Shell(".maxrows 4\nSELECT * FROM range(10) t(i);\n.maxrows 0\nSELECT * FROM range(50) t(i);\n.maxrows\n");
        var boxes = r.Stdout.Split("┘\n");
        Assert.Equal(3, boxes.Length);
        var limited = boxes[0];
        foreach (var shown in new[] { "│     0 │", "│     1 │", "│     8 │", "│     9 │" })
        {
            Assert.Contains(shown, limited);
        }
        Assert.DoesNotContain("│     2 │", limited);
        Assert.DoesNotContain("│     7 │", limited);
        Assert.Contains("10 rows (4 shown)", limited);
        Assert.Equal(50, Regex.Matches(boxes[1], @"│ +\d+ │").Count);
        Assert.DoesNotContain("shown", boxes[1]);
        Assert.Contains("usage: .maxrows COUNT", r.Stderr); // a COUNT is required
    }

    [Fact]
    public void Timer_prints_run_time_after_each_statement_until_turned_off()
    {
        var r = Shell(".timer on\nSELECT 1 AS a;\nSELECT 2 AS b; SELECT 3 AS c;\n.timer off\nSELECT 4 AS d;\n.timer maybe\n");
        var timer = RunTime();
        var lines = r.Stdout.Split('\n');
        Assert.Equal(3, lines.Count(l => timer.IsMatch(l)));
        // Each follows its statement's result, none after .timer off.
        Assert.True(lines.Select((l, i) => (l, i)).Where(x => timer.IsMatch(x.l)).All(x => lines[x.i - 1].StartsWith('└')));
        Assert.DoesNotMatch(timer, lines[^2]);
        Assert.Contains("usage: .timer on|off", r.Stderr);
    }

    [GeneratedRegex(@"^Run Time \(s\): real \d+\.\d{3} user \d+\.\d{6} sys \d+\.\d{6}$")]
    private static partial Regex RunTime();

    [Fact]
    public void Tables_and_schema_show_what_CREATE_made()
    {
        var r = Shell("""
            CREATE TABLE orders(id INTEGER PRIMARY KEY, amount DECIMAL(10,2));
            CREATE TABLE customers(name VARCHAR);
            CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100;
            .tables
            .tables cust%
            .schema orders
            .schema

            """);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("""
            big_orders  customers   orders
            customers
            CREATE TABLE orders(id INTEGER PRIMARY KEY, amount DECIMAL(10,2));
            CREATE VIEW big_orders AS SELECT * FROM orders WHERE (amount > 100);
            CREATE TABLE customers("name" VARCHAR);
            CREATE TABLE orders(id INTEGER PRIMARY KEY, amount DECIMAL(10,2));

            """.Replace("\r\n", "\n", StringComparison.Ordinal), r.Stdout);
    }

    [Fact]
    public void Read_runs_a_file_of_statements_and_dot_commands()
    {
        var file = Path.Combine(_dir, "setup.sql");
        File.WriteAllText(file, "CREATE TABLE t AS\n  SELECT i FROM range(3) t(i);\n.mode csv\n-- a comment; not a statement end\nSELECT 'semi;colon' AS s,\n  sum(i) AS total FROM t;\n");
        var r = Shell($".read {file}\nSELECT count(*) AS n FROM t;\n.read {Path.Combine(_dir, "missing.sql")}\n");
        Assert.Equal("s,total\nsemi;colon,3\nn\n3\n", r.Stdout);
        Assert.Contains("missing.sql", r.Stderr);
        Assert.Equal(1, r.ExitCode);
    }

    [Fact]
    public void Output_sends_results_to_a_file_until_reset_and_once_only_the_next_one()
    {
        var all = Path.Combine(_dir, "all.txt");
        var one = Path.Combine(_dir, "one.txt");
        var r = Shell($".mode csv\n.timer on\n.output {all}\nSELECT 1 AS a;\nSELECT 2 AS b;\n.output\n.timer off\nSELECT 3 AS c;\n.once {one}\nSELECT 4 AS d;\nSELECT 5 AS e;\n");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("a\n1\nb\n2\n", File.ReadAllText(all)); // timer lines stay on the terminal
        Assert.Equal("d\n4\n", File.ReadAllText(one));
        Assert.Matches(@"^Run Time[^\n]*\nRun Time[^\n]*\nc\n3\ne\n5\n$", r.Stdout);
    }

    [Fact]
    public void Output_to_a_file_keeps_every_row_of_a_long_box()
    {
        var file = Path.Combine(_dir, "box.txt");
        var r = Shell($".output {file}\nSELECT * FROM range(100) t(i);\n");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(100, Regex.Matches(File.ReadAllText(file), @"│ +\d+ │").Count);
    }

    [Fact]
    public void Help_lists_every_command_and_help_for_one_command_explains_it()
    {
        var r = Shell(".help\n.help .mode\n.help timer\n.help nosuch\n");
        Assert.True(r.ExitCode == 0, r.Stderr);
        foreach (var command in new[] { ".exit", ".headers", ".help", ".maxrows", ".mode", ".nullvalue", ".once", ".output", ".quit", ".read", ".schema", ".tables", ".timer" })
        {
            Assert.Matches($@"(?m)^\{command} ", r.Stdout);
        }
        var mode = r.Stdout[r.Stdout.LastIndexOf(".mode MODE", StringComparison.Ordinal)..];
        foreach (var m in new[] { "box", "csv", "json", "jsonlines", "line", "list", "markdown", "table" })
        {
            Assert.Matches($@"(?m)^\s+{m}\s+\S", mode);
        }
        Assert.Contains("Run Time (s): real", r.Stdout);
        Assert.Contains("Nothing matches 'nosuch'", r.Stdout);
    }

    [Fact]
    public void Unknown_commands_fail_cleanly_and_quit_and_exit_stop_the_script()
    {
        var r = Shell(".frobnicate\nSELECT 1 AS a;\n.exit 3\nSELECT 2 AS b;\n");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("unknown command or invalid arguments: \"frobnicate\"", r.Stderr);
        Assert.Contains("│   a   │", r.Stdout);
        Assert.DoesNotContain("│   b   │", r.Stdout);
        var q = Shell("SELECT 1 AS a;\n.quit\nSELECT 2 AS b;\n");
        Assert.Equal(0, q.ExitCode);
        Assert.DoesNotContain("│   b   │", q.Stdout);
    }

    [Fact]
    public void A_database_file_keeps_tables_across_processes()
    {
        var db = Path.Combine(_dir, "my.duckdb");
        var first = CliRunner.Duckton("CREATE TABLE kept AS SELECT 42 AS answer;\n", ["sql", db, "--config-dir", ConfigDir]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.True(File.Exists(db));
        var second = CliRunner.Duckton(null, ["sql", db, "--config-dir", ConfigDir, "--format", "csv", "-c", "SELECT answer FROM kept", "-c", "SELECT answer FROM p2p_query('SELECT 7 AS answer')"]);
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Equal("answer\n42\nanswer\n7\n", second.Stdout);
        // Without the file the database is in memory: the table is not there.
        var memory = CliRunner.Duckton(null, ["sql", "--config-dir", ConfigDir, "-c", "SELECT answer FROM kept"]);
        Assert.Equal(1, memory.ExitCode);
        Assert.Contains("kept", memory.Stderr);
    }

    [Fact]
    public void A_locked_database_file_gives_a_clean_error()
    {
        var db = Path.Combine(_dir, "locked.duckdb");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", db, "--config-dir", ConfigDir })
        {
            psi.ArgumentList.Add(a);
        }
        using var holder = Process.Start(psi)!;
        try
        {
            // The holder has the file open once it answered a statement.
            holder.StandardInput.WriteLine(".mode csv");
            holder.StandardInput.WriteLine("SELECT 'open' AS state;");
            holder.StandardInput.Flush();
            Assert.Equal("state", holder.StandardOutput.ReadLine());
            Assert.Equal("open", holder.StandardOutput.ReadLine());
            var r = CliRunner.Duckton(null, ["sql", db, "--config-dir", Path.Combine(_dir, "other"), "-c", "SELECT 1"]);
            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith($"Error: cannot open the database '{db}'", r.Stderr);
            Assert.Contains("another process has this database open", r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr);
            Assert.Equal("", r.Stdout);
        }
        finally
        {
            holder.StandardInput.Close();
            holder.WaitForExit(30_000);
        }
    }

    [Fact]
    public void A_database_file_that_cannot_be_written_gives_a_clean_error()
    {
        // Root ignores file modes, so use a place no one may create files in.
        var db = Environment.UserName == "root" || !OperatingSystem.IsLinux() ? "/sys/duckton-test.duckdb" : ReadOnlyFile();
        var r = CliRunner.Duckton(null, ["sql", db, "--config-dir", ConfigDir, "-c", "SELECT 1"]);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"Error: cannot open the database '{db}'", r.Stderr);
        Assert.Contains("not writable", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    private string ReadOnlyFile()
    {
        var dir = Path.Combine(_dir, "ro");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        return Path.Combine(dir, "new.duckdb");
    }

    [Fact]
    public void Duckton_help_works_like_help_options()
    {
        var help = CliRunner.Duckton(null, "help");
        var option = CliRunner.Duckton(null, "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Equal(option.Stdout, help.Stdout);
        Assert.Contains("sql", help.Stdout);
        var sql = CliRunner.Duckton(null, "help", "sql");
        Assert.Equal(0, sql.ExitCode);
        Assert.Equal(CliRunner.Duckton(null, "sql", "--help").Stdout, sql.Stdout);
        Assert.Contains("<database>", sql.Stdout);
        Assert.Contains("jsonlines", sql.Stdout);
        var nested = CliRunner.Duckton(null, "help", "grid", "up");
        Assert.Equal(CliRunner.Duckton(null, "grid", "up", "--help").Stdout, nested.Stdout);
        var unknown = CliRunner.Duckton(null, "help", "nosuch");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no command 'nosuch'", unknown.Stderr);
    }

    // ---- a real terminal ----

    /// <summary>Runs <c>duckton sql</c> on a pseudo-terminal through <c>pty_drive.py</c>; returns (exit code, transcript).</summary>
    internal static (int ExitCode, string Transcript) Terminal(IEnumerable<object> steps, string[] args, string? stderrFile = null)
    {
        string[] driver = [Path.Combine(AppContext.BaseDirectory, "pty_drive.py"), .. stderrFile is null ? Array.Empty<string>() : ["--stderr-file", stderrFile],
            JsonSerializer.Serialize(steps), "--", "dotnet", Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", .. args];
        var r = CliRunner.Run("python3", driver, timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode != 99, $"the terminal session stalled:\n{r.Stdout}\n{r.Stderr}");
        return (r.ExitCode, r.Stdout);
    }

    internal static object Expect(string text, int timeoutSeconds = 90) => new Dictionary<string, object> { ["expect"] = text, ["timeout"] = timeoutSeconds };

    internal static object Send(string text) => new Dictionary<string, object> { ["send"] = text };

    internal static object Pause(double seconds = 0.3) => new Dictionary<string, object> { ["sleep"] = seconds };

    [Fact]
    public void Ctrl_C_at_a_continuation_prompt_drops_the_half_typed_statement_and_at_an_empty_prompt_does_not_exit()
    {
        var (code, transcript) = Terminal(
        [
            Expect("D "),
            Send("SELECT 111 AS half_typed,\r"),
            Expect("· "),
            Pause(),                 // a person's reaction time: the editor is reading keys, not between two reads
            Send("\u0003"),          // Ctrl+C at the continuation prompt
            Expect("D "),
            Pause(),
            Send("\u0003"),          // Ctrl+C at an empty prompt: still here
            Expect("D "),
            Send("SELECT 222 AS alone;\r"),
            Expect("│   222 │"),
            Expect("D "),
            Send("\u0004"),          // Ctrl+D leaves
        ], ["--config-dir", ConfigDir]);
        Assert.True(code == 0, transcript);
        Assert.Contains("^C", transcript);
        // Only the second statement ran: one box, with its column alone (the first would have made it a syntax error
        // or a two-column row).
        Assert.Single(Regex.Matches(transcript, "┌"));
        Assert.Contains("│ alone │", transcript);
        Assert.DoesNotContain("half_typed │", transcript);
        Assert.DoesNotContain("Error", transcript);
    }

    [Fact]
    public void Ctrl_C_while_a_statement_runs_interrupts_it_and_the_shell_carries_on()
    {
        var (code, transcript) = Terminal(
        [
            Expect("D "),
            Send("SELECT count(*) FROM range(10000000000) t(i) WHERE hash(i) % 7 = 0;\r"), // minutes of work
            new Dictionary<string, object> { ["sleep"] = 2 },
            Send("\u0003"),
            Expect("Interrupted", 60),
            Expect("D "),
            Send("SELECT 5 AS after;\r"),
            Expect("│     5 │"),
            Send("\u0004"),
        ], ["--config-dir", ConfigDir]);
        Assert.True(code == 0, transcript);
        Assert.Matches(@"Error: [^\n]*Interrupted", transcript); // DuckDB's interrupt, however the message is prefixed
    }

    // A table scan DuckDB can report progress for, on one thread so it takes seconds even on an idle machine.
    private const string SlowSetup = "SET threads = 1; CREATE TABLE big AS SELECT range AS i FROM range(4000000); SELECT 'ready' AS state;";
    private const string SlowQuery = "SELECT count(*) AS n FROM big WHERE md5(i::VARCHAR) < md5((i + 1)::VARCHAR) AND hash(md5(md5(i::VARCHAR))) % 3 = 0;";

    [Fact]
    public void A_long_query_shows_DuckDBs_progress_on_a_terminal_and_erases_it_before_the_result()
    {
        var (code, transcript) = Terminal(
        [
            Expect("D "),
            Send(SlowSetup + "\r"),
            Expect("│ varchar │", 120), // the result box of SELECT 'ready' (the echoed input has no such line)
            Send(SlowQuery + "\r"),
            Expect("int64", 240),
            Expect("D "),
            Send(".quit\r"),
        ], ["--config-dir", ConfigDir]);
        Assert.True(code == 0, transcript);
        var bars = Regex.Matches(transcript, @"\r *(\d+)% ▕[█░]+▏ \d+\.\d s");
        Assert.True(bars.Count > 0, $"no progress bar in:\n{transcript}");
        // DuckDB's own percentages, never decreasing, and the bar is gone before the result box is drawn.
        var percents = bars.Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(percents.Order(), percents);
        Assert.All(percents, p => Assert.InRange(p, 0, 100));
        var box = transcript.IndexOf("┌", bars[^1].Index, StringComparison.Ordinal);
        Assert.True(box > 0, transcript);
        Assert.True(transcript.LastIndexOf("\r\u001b[2K", box, StringComparison.Ordinal) > bars[^1].Index, transcript);
    }

    [Fact]
    public void Progress_never_reaches_a_redirected_stderr_or_stdout()
    {
        var err = Path.Combine(_dir, "stderr.txt");
        var (code, transcript) = Terminal(
        [
            Expect("D "),
            Send(SlowSetup + "\r"),
            Expect("│ varchar │", 120), // the result box of SELECT 'ready' (the echoed input has no such line)
            Send(SlowQuery + "\r"),
            Expect("int64", 240),
            Expect("D "),
            Send(".quit\r"),
        ], ["--config-dir", ConfigDir], stderrFile: err);
        Assert.True(code == 0, transcript);
        Assert.DoesNotContain("%", File.ReadAllText(err));
        Assert.DoesNotContain("▕", transcript);
        Assert.DoesNotContain("running", transcript);
        // And with no terminal at all (pipes), stdout carries the result only.
        var piped = Shell(".mode csv\n" + SlowSetup + "\n" + SlowQuery + "\n");
        Assert.True(piped.ExitCode == 0, piped.Stderr);
        Assert.Matches(@"^state\nready\nn\n\d+\n$", piped.Stdout);
        Assert.Equal("", piped.Stderr);
    }
}
