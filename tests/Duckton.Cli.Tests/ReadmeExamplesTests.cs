using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Duckton.Cli.Tests;

/// <summary>
/// README.md's examples, executed as a user would, top to bottom, so a README that drifts from the code fails the
/// suite. Every fenced block is read: <c>bash</c> blocks are split into commands, each command is run (or is one of the
/// few <see cref="Excused"/> commands, each with its reason; any other command fails the test), <c>sql</c> blocks run
/// in order in ONE <c>duckton sql</c> session opened after the section's commands (hosts and grids still running),
/// and an untagged block introduced by "The first prints" is compared exactly with the first command's stdout.
/// <para>
/// <c>./duckton</c> is run as the <c>duckton.dll</c> built next to these tests (this project references the CLI, so
/// it is the same sources in the same build): the launcher script would build a second copy into <c>.cli-build/</c>
/// (minutes on a loaded machine). The launcher itself is tested by <see cref="LauncherScriptTests"/>, and the README's
/// first command goes through the real script in <c>SqlCommandTests.The_README_command_prints_INTEGER_42_through_the_repository_script</c>.
/// </para>
/// <para>
/// Isolation: every process gets a temporary <c>XDG_CONFIG_HOME</c> (so the default config directory is a temporary
/// one, shared by the whole README as it would be for a user), a temporary <c>TMPDIR</c> and working directory, and no
/// inherited <c>P2P_*</c> variables. Substitutions, applied to a whole section's blocks so its commands and SQL stay
/// consistent: a README port that is busy on this machine (CI) is replaced by a free one, and an absolute
/// <c>/tmp/...</c> path by a path under the test's temporary directory.
/// </para>
/// </summary>
public sealed partial class ReadmeExamplesTests : IDisposable
{
    /// <summary>Commands that cannot run here, by the prefix they start with, and why.</summary>
    private static readonly (string Prefix, string Reason)[] Excused =
    [
        ("./test.sh", "runs every suite, this one included; CI and the lead run it"),
        ("dotnet publish src/Duckton.Extension", "Duckton.Extension.Tests publishes the extension itself (ExtensionBuild.EnsurePublished) and loads the result"),
        ("dotnet add package Duckton", "Duckton.Library.Tests PackageTests packs the packages into a local feed and runs this in a fresh console project with an empty NuGet cache (and dotnet tool install for Duckton.Tool)"),
        ("duckdb -unsigned", "needs the duckdb CLI, which is not installed here; Duckton.Extension.Tests loads the extension into libduckdb with allow_unsigned_extensions from CoreCLR, Node and C instead"),
    ];

    /// <summary>SQL blocks that cannot run here, by the text they start with, and why.</summary>
    private static readonly (string Prefix, string Reason)[] ExcusedSql =
    [
        ("LOAD '/path/to/artifacts/duckton.duckdb_extension';", "the same LOAD and p2p_query('SELECT 42 AS answer') run in Duckton.Extension.Tests (InProcessTests.The_extension_loads_into_a_CoreCLR_process_hosting_libduckdb, node/scenario.cjs)"),
    ];

    private readonly string _root = Directory.CreateTempSubdirectory("duckton-readme-").FullName;
    private readonly List<Process> _background = [];
    private readonly Dictionary<Process, StringBuilder> _stderr = [];
    private readonly StringBuilder _log = new();

    private string Work => Path.Combine(_root, "work");
    private string Tmp => Path.Combine(_root, "tmp");

    public ReadmeExamplesTests()
    {
        Directory.CreateDirectory(Work);
        Directory.CreateDirectory(Tmp);
        Directory.CreateDirectory(Path.Combine(_root, "xdg"));
    }

    public void Dispose()
    {
        foreach (var p in _background)
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(10_000);
            }
            p.Dispose();
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public sealed record Block(string Section, int Line, string Lang, string Text, string Intro);

    /// <summary>The fenced blocks of a markdown text with their section (## heading), the line of their opening fence and the paragraph line before them.</summary>
    public static List<Block> Blocks(string markdown)
    {
        var lines = markdown.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var blocks = new List<Block>();
        var section = "";
        var intro = "";
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.StartsWith('#'))
            {
                section = line.StartsWith("## ", StringComparison.Ordinal) ? line[3..].Trim() : section;
                intro = ""; // a heading ends the paragraph that introduces a block
                continue;
            }
            if (!line.StartsWith("```", StringComparison.Ordinal))
            {
                if (line.Trim().Length > 0)
                {
                    intro = line.Trim();
                }
                continue;
            }
            var lang = line[3..].Trim();
            var body = new StringBuilder();
            var start = i + 1;
            for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++)
            {
                body.Append(lines[i]).Append('\n');
            }
            Assert.True(i < lines.Length, $"README.md:{start}: unterminated code block");
            blocks.Add(new Block(section, start, lang, body.ToString(), intro));
            intro = "";
        }
        return blocks;
    }

    /// <summary>A command line's words (bash quoting: '...' literal, "..." without $ or `) and its trailing comment.</summary>
    public static (List<string> Words, string Comment) Words(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
                continue;
            }
            if (c == '#' && !inWord)
            {
                return (words, line[(i + 1)..].Trim());
            }
            inWord = true;
            if (c is '\'' or '"')
            {
                var end = line.IndexOf(c, i + 1);
                Assert.True(end > 0, $"unbalanced quote in: {line}");
                var quoted = line[(i + 1)..end];
                Assert.False(c == '"' && (quoted.Contains('$', StringComparison.Ordinal) || quoted.Contains('`', StringComparison.Ordinal) || quoted.Contains('\\', StringComparison.Ordinal)),
                    $"this test does not expand $, ` or \\ inside double quotes: {line}");
                word.Append(quoted);
                i = end;
            }
            else
            {
                Assert.False(c is '$' or '`' or '\\' or '|' or '>' or '<' or ';' or '&', $"this test runs plain commands only (no expansion, pipes, redirections, lists): {line}");
                word.Append(c);
            }
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return (words, "");
    }

    private Dictionary<string, string> Env()
    {
        var env = new Dictionary<string, string>();
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (key.StartsWith("P2P_", StringComparison.Ordinal))
            {
                env[key] = ""; // removed below
            }
        }
        env["XDG_CONFIG_HOME"] = Path.Combine(_root, "xdg");
        env["TMPDIR"] = Tmp;
        return env;
    }

    private ProcessStartInfo Start(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Work,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "duckton.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in Env())
        {
            if (v.Length == 0)
            {
                psi.Environment.Remove(k);
            }
            else
            {
                psi.Environment[k] = v;
            }
        }
        return psi;
    }

    /// <summary>Runs <c>./duckton args</c> to the end with <paramref name="stdin"/> (then closed).</summary>
    private CliRunner.Result Run(IEnumerable<string> args, string stdin = "")
    {
        var list = args.ToList();
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(Start(list))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"./duckton {string.Join(' ', list)} did not finish");
        }
        _log.AppendLine(CultureInfo.InvariantCulture, $"./duckton {string.Join(' ', list)}: exit {p.ExitCode} in {sw.Elapsed.TotalSeconds:0.0} s");
        return new CliRunner.Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts a long-running <c>./duckton</c> command and returns its stdout lines up to the one <paramref name="ready"/> accepts.</summary>
    private (Process Process, List<string> Lines) StartBackground(List<string> args, Func<string, bool> ready)
    {
        var p = Process.Start(Start(args))!;
        _background.Add(p);
        var stderr = new StringBuilder();
        _stderr[p] = stderr;
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        p.BeginErrorReadLine();
        var lines = new List<string>();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(2))
        {
            var read = p.StandardOutput.ReadLineAsync();
            if (!read.Wait(TimeSpan.FromMinutes(2) - deadline.Elapsed) || read.Result is not { } line)
            {
                break;
            }
            lines.Add(line);
            if (ready(line))
            {
                _log.AppendLine(CultureInfo.InvariantCulture, $"./duckton {string.Join(' ', args)}: ready after {deadline.Elapsed.TotalSeconds:0.0} s");
                return (p, lines);
            }
        }
        throw new InvalidOperationException($"./duckton {string.Join(' ', args)} printed no ready line: {string.Join('\n', lines)}");
    }

    private static void Terminate(Process p)
    {
        using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)])!)
        {
            kill.WaitForExit();
        }
        Assert.True(p.WaitForExit(60_000), "did not exit after SIGTERM");
    }

    private static bool PortFree(int port)
    {
        try
        {
            using var l = new TcpListener(IPAddress.Loopback, port);
            l.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A base of <paramref name="count"/> consecutive free loopback ports.</summary>
    private static int FreePorts(int count)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            using var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            if (port + count <= 65535 && Enumerable.Range(port, count).All(PortFree))
            {
                return port;
            }
        }
        throw new InvalidOperationException("no free ports");
    }

    /// <summary>
    /// The section's blocks with busy README ports replaced by free ones and /tmp paths moved under the test's
    /// directory, the same replacement in every block of the section.
    /// </summary>
    private List<Block> Substitute(List<Block> blocks)
    {
        var text = string.Join("\n", blocks.Select(b => b.Text));
        var replace = new List<(Regex, string)>();
        // Ports a command listens on: --listen HOST:PORT, --base-port P with --hosts N.
        foreach (Match m in ListenPort().Matches(text))
        {
            var port = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            if (!PortFree(port))
            {
                replace.Add((new Regex($@"(?<![0-9]){port}(?![0-9])"), FreePorts(1).ToString(CultureInfo.InvariantCulture)));
            }
        }
        foreach (Match m in BasePort().Matches(text))
        {
            var port = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var hosts = HostsCount().Match(text) is { Success: true } h ? int.Parse(h.Groups[1].Value, CultureInfo.InvariantCulture) : 1;
            if (!Enumerable.Range(port, hosts).All(PortFree))
            {
                var fresh = FreePorts(hosts);
                for (var i = 0; i < hosts; i++)
                {
                    replace.Add((new Regex($@"(?<![0-9]){port + i}(?![0-9])"), (fresh + i).ToString(CultureInfo.InvariantCulture)));
                }
            }
        }
        replace.Add((TmpPath(), Path.Combine(_root, "abs") + "/"));
        foreach (var (from, to) in replace.Where(r => r.Item1.IsMatch(text)))
        {
            _log.AppendLine(CultureInfo.InvariantCulture, $"{blocks[0].Section}: {from} -> {to}");
        }
        return blocks.Select(b => b with { Text = replace.Aggregate(b.Text, (t, r) => r.Item1.Replace(t, r.Item2)) }).ToList();
    }

    [GeneratedRegex(@"(?:--listen\s+[^\s:]+:|--dashboard\s+|--port\s+)([0-9]+)")]
    private static partial Regex ListenPort();

    [GeneratedRegex(@"--base-port\s+([0-9]+)")]
    private static partial Regex BasePort();

    [GeneratedRegex(@"--hosts\s+([0-9]+)")]
    private static partial Regex HostsCount();

    [GeneratedRegex(@"(?<![\w/.])/tmp/")]
    private static partial Regex TmpPath();

    [Fact]
    public void Every_README_example_works_as_written()
    {
        var blocks = Blocks(File.ReadAllText(Path.Combine(CliRunner.RepoRoot, "README.md")));
        var sections = blocks.GroupBy(b => b.Section).ToList();
        var ran = 0;
        var excused = new List<string>();
        var total = Stopwatch.StartNew();
        foreach (var group in sections)
        {
            var section = Substitute(group.ToList());
            var background = new List<Process>();
            var sqlRan = false;
            CliRunner.Result? firstResult = null;
            foreach (var block in section)
            {
                var where = $"README.md:{block.Line} ({block.Section})";
                switch (block.Lang)
                {
                    case "bash":
                        // A command block after SQL starts a new scene (e.g. "Or one host of your own"): what the
                        // previous one started is stopped first, as a user would stop it.
                        if (sqlRan)
                        {
                            StopAll(group.Key, background);
                            sqlRan = false;
                        }
                        foreach (var line in block.Text.Split('\n'))
                        {
                            var (words, comment) = Words(line);
                            if (words.Count == 0)
                            {
                                continue;
                            }
                            var command = string.Join(' ', words);
                            if (Excused.FirstOrDefault(e => command.StartsWith(e.Prefix, StringComparison.Ordinal)) is { Prefix: not null } ex)
                            {
                                excused.Add($"{command} — {ex.Reason}");
                                continue;
                            }
                            Assert.True(words[0] == "./duckton" && words.Count >= 2, $"{where}: a command this test cannot run and no excuse names: {command}");
                            var result = RunDuckton(where, words.Skip(1).ToList(), comment, background);
                            firstResult ??= result;
                            ran++;
                        }
                        break;
                    case "sql":
                        if (ExcusedSql.FirstOrDefault(e => block.Text.StartsWith(e.Prefix, StringComparison.Ordinal)) is { Prefix: not null } exs)
                        {
                            excused.Add($"{block.Text.Split('\n')[0]} — {exs.Reason}");
                            break;
                        }
                        RunSqlBlock(where, block.Text, background);
                        sqlRan = true;
                        ran++;
                        break;
                    case "":
                        if (block.Intro == "The first prints")
                        {
                            Assert.True(firstResult is not null, $"{where}: 'The first prints' follows no command");
                            Assert.Equal(block.Text, firstResult.Stdout);
                            ran++;
                        }
                        // Any other untagged block is a diagram, not an example.
                        break;
                    case "csharp":
                    {
                        // C# runs in the library's own tests and samples; here every API name the example uses must be
                        // public API of the Duckton package (tracked in its PublicAPI files), so the README cannot drift.
                        var api = string.Concat(Directory.GetFiles(Path.Combine(CliRunner.RepoRoot, "src", "Duckton"), "PublicAPI.*.txt").Select(File.ReadAllText));
                        foreach (var name in Regex.Matches(block.Text, @"(?:new |\.)([A-Z]\w+)").Select(m => m.Groups[1].Value).Where(n => n is not "WriteLine"))
                        {
                            Assert.True(api.Contains(name, StringComparison.Ordinal), $"{where}: {name} is not public API of the Duckton package");
                        }
                        ran++;
                        break;
                    }
                    default:
                        Assert.Fail($"{where}: a ```{block.Lang} block this test does not know how to run");
                        break;
                }
            }
            StopAll(group.Key, background);
        }
        // `grid up` removes the temporary config root it created (under TMPDIR) when stopped.
        Assert.Empty(Directory.GetDirectories(Tmp, "duckton-grid-*"));
        Assert.True(ran >= 10, $"only {ran} examples ran: is the README parsed?\n{_log}");
        Assert.Equal(Excused.Length + ExcusedSql.Length, excused.Count); // every excuse is still needed
        Console.WriteLine($"README examples: {ran} ran, {excused.Count} excused, {total.Elapsed.TotalSeconds:0} s\n{string.Join('\n', excused)}\n{_log}");
    }

    private void StopAll(string section, List<Process> background)
    {
        foreach (var p in background)
        {
            Terminate(p);
            _log.AppendLine(CultureInfo.InvariantCulture, $"{section}: stopped pid {p.Id} with SIGTERM, exit {p.ExitCode}");
        }
        background.Clear();
    }

    private string StderrOf(Process p)
    {
        var sb = _stderr[p];
        lock (sb)
        {
            return sb.ToString();
        }
    }

    [Fact]
    public void The_block_and_command_readers_follow_markdown_and_bash_quoting()
    {
        var blocks = Blocks("# T\n\n## A\n\n```bash\n./duckton x # c\n```\n\nThe first prints\n\n```\nout\n```\n## B\n```sql\nSELECT 1;\n```\n");
        Assert.Equal(
        [
            new Block("A", 5, "bash", "./duckton x # c\n", ""),
            new Block("A", 11, "", "out\n", "The first prints"),
            new Block("B", 15, "sql", "SELECT 1;\n", ""),
        ], blocks);
        var (words, comment) = Words("./duckton sql -c \"SELECT {''a'': 1} AS s, 'x#y' AS t\"   # prints \"ready x\"");
        Assert.Equal(["./duckton", "sql", "-c", "SELECT {''a'': 1} AS s, 'x#y' AS t"], words);
        Assert.Equal("prints \"ready x\"", comment);
        Assert.Equal(["a#b", "c'd"], Words("a#b \"c'd\"").Words); // '#' inside a word is not a comment
        // What this test would not run as bash would: it refuses rather than guess.
        Assert.ThrowsAny<Exception>(() => Words("./duckton sql -c \"SELECT '$HOME'\""));
        Assert.ThrowsAny<Exception>(() => Words("./duckton sql | head"));
        Assert.ThrowsAny<Exception>(() => Words("./duckton sql -c 'SELECT 1"));
    }

    /// <summary>Runs one <c>./duckton</c> command the way its form asks; returns its result for a command that ends.</summary>
    private CliRunner.Result? RunDuckton(string where, List<string> args, string comment, List<Process> background)
    {
        var what = $"{where}: ./duckton {string.Join(' ', args)}";
        switch (args[0])
        {
            case "host":
            {
                var (p, lines) = StartBackground(args, l => l.StartsWith("ready ", StringComparison.Ordinal));
                background.Add(p);
                // The comment quotes the ready line; <64 hex> stands for the node's key.
                if (PrintsQuote().Match(comment) is { Success: true } m)
                {
                    var pattern = "^" + Regex.Escape(m.Groups[1].Value).Replace("<64\\ hex>", "[0-9a-f]{64}", StringComparison.Ordinal) + "$";
                    Assert.Matches(pattern, lines[^1]);
                }
                return null;
            }
            case "grid" when args.Count > 1 && args[1] == "up":
            {
                // With --dashboard, ready once the page is served (its line follows the "grid up:" line).
                var withDashboard = args.Contains("--dashboard");
                var (p, lines) = StartBackground(args, l => l.StartsWith(withDashboard ? "dashboard http://" : "grid up:", StringComparison.Ordinal));
                background.Add(p);
                if (withDashboard)
                {
                    Assert.Contains(lines, l => l.StartsWith("grid up:", StringComparison.Ordinal));
                    AssertServes(what, lines[^1]);
                }
                // The comment names the hosts' addresses, e.g. 127.0.0.1:9494-9496: each printed a line.
                if (AddressRange().Match(comment) is { Success: true } r)
                {
                    for (var port = int.Parse(r.Groups[2].Value, CultureInfo.InvariantCulture); port <= int.Parse(r.Groups[3].Value, CultureInfo.InvariantCulture); port++)
                    {
                        Assert.Contains(lines, l => l.StartsWith($"{r.Groups[1].Value}:{port} node_id=", StringComparison.Ordinal));
                    }
                }
                return null;
            }
            case "chain" when args.Count > 1 && args[1] == "up":
            {
                // The local chain: ready once it prints its API, which answers and says it is an emulator.
                var (p, lines) = StartBackground(args, l => l.StartsWith("ready rpc=http://127.0.0.1:", StringComparison.Ordinal));
                background.Add(p);
                var rpc = lines[^1]["ready rpc=".Length..].Trim();
                using var http = new System.Net.Http.HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                var info = http.GetStringAsync(rpc[..rpc.IndexOf("/api/v2", StringComparison.Ordinal)] + "/local/info").GetAwaiter().GetResult();
                Assert.Contains("local-emulator", info, StringComparison.Ordinal);
                return null;
            }
            case "dashboard":
            {
                var (p, lines) = StartBackground(args, l => l.StartsWith("dashboard http://", StringComparison.Ordinal));
                background.Add(p);
                AssertServes(what, lines[^1]);
                return null;
            }
            case "sql" when args.Contains("-c"):
            {
                var result = Run(args);
                Assert.True(result.ExitCode == 0 && !result.Stderr.Contains("Error", StringComparison.Ordinal), $"{what}\nexit {result.ExitCode}\n{result.Stderr}{result.Stdout}");
                Assert.False(string.IsNullOrWhiteSpace(result.Stdout), $"{what} printed nothing");
                return result;
            }
            case "sql" when args.Count == 1:
            {
                // The interactive shell, typed into: every dot-command the comment names is in its .help.
                var result = Run(args, ".help\n.quit\n");
                Assert.True(result.ExitCode == 0, $"{what}\n{result.Stderr}");
                foreach (Match dot in DotCommand().Matches(comment))
                {
                    Assert.Matches($@"(?m)^\{dot.Value}\b", result.Stdout);
                }
                return result;
            }
            case "sql" when args.Count == 2 && !args[1].StartsWith('-'):
            {
                // A database file, created in the working directory; a table made in one session is there in the next.
                var file = Path.Combine(Work, args[1]);
                Assert.False(File.Exists(file), $"{what}: {file} exists before the example");
                var create = Run(args, "CREATE TABLE readme_kept AS SELECT 42 AS answer;\n");
                Assert.True(create.ExitCode == 0, $"{what}\n{create.Stderr}");
                Assert.True(File.Exists(file), $"{what} did not create {file}");
                var read = Run(args, "SELECT answer FROM readme_kept;\n");
                Assert.True(read.ExitCode == 0, $"{what}\n{read.Stderr}");
                Assert.Contains("42", read.Stdout, StringComparison.Ordinal);
                return create;
            }
            default:
                Assert.Fail($"{what}: a form of ./duckton this test does not know how to run (teach it, or excuse the command with its reason)");
                return null;
        }
    }

    /// <summary>The page of a "dashboard http://127.0.0.1:P/" line answers, and so does its summary.</summary>
    private static void AssertServes(string what, string dashboardLine)
    {
        var url = new Uri(dashboardLine["dashboard ".Length..].Trim());
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        foreach (var path in new[] { "", "api/summary" })
        {
            using var r = http.GetAsync(new Uri(url, path)).GetAwaiter().GetResult();
            Assert.True(r.IsSuccessStatusCode, $"{what}: GET {new Uri(url, path)} answered {(int)r.StatusCode}");
        }
    }

    /// <summary>A ```sql block typed, statement after statement, into one <c>./duckton sql</c> session: each must succeed and print a result.</summary>
    private void RunSqlBlock(string where, string sql, List<Process> background)
    {
        var statements = sql.Split('\n').Count(l => l.TrimEnd().EndsWith(';'));
        var servedBefore = background.Sum(p => ServedJob().Count(StderrOf(p)));
        var result = Run(["sql"], sql);
        Assert.True(result.ExitCode == 0 && !result.Stderr.Contains("Error", StringComparison.Ordinal), $"{where}: exit {result.ExitCode}\n{result.Stderr}\n{result.Stdout}");
        // One table (DuckDB's box rendering) per statement.
        Assert.True(result.Stdout.Split('\n').Count(l => l.StartsWith('┌')) == statements, $"{where}: expected {statements} result tables\n{result.Stdout}");
        _log.AppendLine(CultureInfo.InvariantCulture, $"{where}:\n{result.Stdout}");
        // prefer => 'remote' never falls back to local execution, so success already means remote hosts answered;
        // here the hosts this section started must have logged a served job since the block began (newcomer canaries
        // count too), so stale hosts remembered from an earlier section cannot pass for them. The log line may follow
        // the requester's answer by a moment.
        if (sql.Contains("prefer => 'remote'", StringComparison.Ordinal))
        {
            Assert.True(background.Count > 0, $"{where}: remote queries, but the section started no host");
            var wait = Stopwatch.StartNew();
            while (background.Sum(p => ServedJob().Count(StderrOf(p))) == servedBefore && wait.Elapsed < TimeSpan.FromSeconds(20))
            {
                Thread.Sleep(100);
            }
            Assert.True(background.Sum(p => ServedJob().Count(StderrOf(p))) > servedBefore,
                $"{where}: no host started in this section logged a served job\n{string.Join("\n", background.Select(StderrOf))}");
        }
    }

    [GeneratedRegex(@"job \S+ from \S+: served,")]
    private static partial Regex ServedJob();

    [GeneratedRegex("prints \"([^\"]+)\"")]
    private static partial Regex PrintsQuote();

    [GeneratedRegex(@"([0-9.]+):([0-9]+)-([0-9]+)")]
    private static partial Regex AddressRange();

    [GeneratedRegex(@"\.[a-z]+")]
    private static partial Regex DotCommand();
}
