using System.CommandLine;
using Duckton.Cli.Output;
using Duckton.Node;

namespace Duckton.Cli;

/// <summary>The <c>duckton</c> command tree.</summary>
internal static class CliCommands
{
    public static RootCommand Build()
    {
        var root = new RootCommand("duckton — DuckDB as a node of a trustless peer-to-peer query grid");
        root.Subcommands.Add(SqlCommand());
        root.Subcommands.Add(BenchCommand());
        root.Subcommands.Add(HostCommands.Host(ConfigDirOption()));
        root.Subcommands.Add(HostCommands.GridUp());
        root.Subcommands.Add(ChainCommands.Chain());
        root.Subcommands.Add(ProofCommands.Proof());
        root.Subcommands.Add(TokenCommands.Token());
        root.Subcommands.Add(DashboardCommands.Dashboard(ConfigDirOption()));
        root.Subcommands.Add(HelpCommand(root));
        return root;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>. A command-line mistake (unknown option, a value of the wrong type) is
    /// one line per problem on stderr and exit code 2, without the help text; <c>--help</c> shows that.
    /// </summary>
    public static int Run(string[] args)
    {
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0 && args.Length > 0)
        {
            foreach (var error in parse.Errors)
            {
                Console.Error.WriteLine($"Error: {Plain(error.Message)}");
            }
            var path = new List<string>();
            for (var r = parse.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            {
                path.Insert(0, r.Command is RootCommand ? "duckton" : r.Command.Name);
            }
            Console.Error.WriteLine($"Run '{string.Join(' ', path)} --help' for usage.");
            return 2;
        }
        return parse.Invoke();
    }

    /// <summary>System.CommandLine names .NET types ("System.Nullable`1[System.Int32]"); say what the option wants instead.</summary>
    private static string Plain(string message)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, @"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'\.?$");
        if (!m.Success)
        {
            return message;
        }
        var type = m.Groups["type"].Value;
        var wanted = type.Contains("Int", StringComparison.Ordinal) ? "a whole number"
            : type.Contains("Boolean", StringComparison.Ordinal) ? "true or false"
            : type.Contains("Double", StringComparison.Ordinal) ? "a number"
            : "another kind of value";
        return $"{m.Groups["option"].Value} expects {wanted}, not '{m.Groups["value"].Value}'";
    }

    /// <summary><c>duckton help [COMMAND...]</c>: the same text as <c>--help</c> (of the command named, if any).</summary>
    private static Command HelpCommand(RootCommand root)
    {
        var names = new Argument<string[]>("command") { Description = "The command to describe, e.g. sql or grid up", Arity = ArgumentArity.ZeroOrMore };
        var help = new Command("help", "Show help for duckton or one of its commands (same as --help)");
        help.Arguments.Add(names);
        help.SetAction(parse =>
        {
            var path = parse.GetValue(names) ?? [];
            Command current = root;
            foreach (var name in path)
            {
                if (current.Subcommands.FirstOrDefault(c => c.Name == name || c.Aliases.Contains(name)) is not { } next)
                {
                    Console.Error.WriteLine($"Error: duckton has no command '{string.Join(' ', path)}'; 'duckton help' lists the commands");
                    return 1;
                }
                current = next;
            }
            return root.Parse([.. path, "--help"]).Invoke();
        });
        return help;
    }

    private static Option<string?> ConfigDirOption() => new("--config-dir")
    {
        Description = "Configuration directory (default: $P2P_CONFIG_DIR, else $XDG_CONFIG_HOME/duckdb-p2p, else ~/.config/duckdb-p2p)",
    };

    private static Command BenchCommand()
    {
        var configDir = ConfigDirOption();
        var rows = new Option<long>("--rows") { Description = "Rows of the large query", DefaultValueFactory = _ => 1_000_000 };
        var runs = new Option<int>("--runs") { Description = "Timed runs per figure (median reported)", DefaultValueFactory = _ => 7 };
        var local = new Command("local", "Local p2p_query against the same query run directly, and small-query latency");
        local.Options.Add(configDir);
        local.Options.Add(rows);
        local.Options.Add(runs);
        local.SetAction(parse => LocalBenchmark.Run(ConfigDirectory.Resolve(parse.GetValue(configDir)), parse.GetValue(rows), parse.GetValue(runs), Console.Out));
        var gridRows = new Option<long>("--rows") { Description = "Rows of the streamed result", DefaultValueFactory = _ => 1_000_000 };
        var gridRuns = new Option<int>("--runs") { Description = "Timed small queries per figure", DefaultValueFactory = _ => 500 };
        var grid = new Command("grid", "Verified remote queries on a loopback grid of real host processes");
        grid.Options.Add(gridRows);
        grid.Options.Add(gridRuns);
        var spillOnly = new Option<bool>("--spill-only") { Description = "Only the requester's spill-to-disk cost (in-memory vs spilled result)" };
        grid.Options.Add(spillOnly);
        var smallOnly = new Option<bool>("--small-only") { Description = "Only the small verified query (latency and CPU per query, requester and hosts)" };
        grid.Options.Add(smallOnly);
        var warmup = new Option<int>("--warmup") { Description = "Unmeasured small queries before the timed ones (steady state: JIT tiers, thread pool, warm engines)", DefaultValueFactory = _ => 1000 };
        grid.Options.Add(warmup);
        grid.SetAction(parse => GridBenchmark.Run(parse.GetValue(gridRows), parse.GetValue(gridRuns), Console.Out, parse.GetValue(spillOnly), parse.GetValue(smallOnly), parse.GetValue(warmup)));
        var bench = new Command("bench", "End-to-end benchmarks");
        bench.Subcommands.Add(local);
        bench.Subcommands.Add(grid);
        bench.Subcommands.Add(SimBenchmark.Command());
        return bench;
    }

    private static Command SqlCommand()
    {
        var configDir = ConfigDirOption();
        var format = new Option<string>("--format") { Description = "Output format (as .mode): " + string.Join(", ", Renderers.Formats), DefaultValueFactory = _ => "box" };
        format.AcceptOnlyFromAmong(Renderers.Formats);
        var commands = new Option<string[]>("-c", "--command")
        {
            Description = "Run this SQL (repeatable; run in order) instead of the interactive shell",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var database = new Argument<string?>("database")
        {
            Description = "A DuckDB database file to open (created if missing); without it the database is in memory",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("sql", "Run SQL on an embedded DuckDB (in memory, or the database file given) with every p2p_* function; "
            + "without -c, an interactive shell (.help lists its dot-commands)");
        command.Arguments.Add(database);
        command.Options.Add(configDir);
        command.Options.Add(format);
        command.Options.Add(commands);
        command.SetAction(parse =>
        {
            var dir = ConfigDirectory.Resolve(parse.GetValue(configDir));
            var fmt = parse.GetValue(format)!;
            var file = parse.GetValue(database);
            SqlSession session;
            try
            {
                session = new SqlSession(dir, file);
            }
            catch (DuckDB.DuckDBException e)
            {
                Console.Error.WriteLine($"Error: {OpenError(file, e.Message)}");
                return 1;
            }
            using (session)
            {
                var statements = parse.GetValue(commands) ?? [];
                // Progress goes to stderr, and only when stderr is a terminal: piped output never sees it.
                var progress = !Console.IsErrorRedirected;
                if (statements.Length == 0)
                {
                    using var shell = new Shell(session, fmt, interactive: !Console.IsInputRedirected, showProgress: progress);
                    return shell.Run();
                }
                IStatementWatcher? watcher = null;
                if (progress)
                {
                    session.TrackProgress();
                    watcher = new ProgressDisplay(session, Console.Error, TimeProvider.System);
                }
                foreach (var sql in statements)
                {
                    if (!session.Run(sql, Renderers.For(fmt), Console.Out, Console.Error, watcher))
                    {
                        return 1;
                    }
                }
                return 0;
            }
        });
        return command;
    }

    /// <summary>Why a database file did not open, with what to do about it.</summary>
    private static string OpenError(string? file, string message)
    {
        var hint = message.Contains("lock", StringComparison.OrdinalIgnoreCase)
            ? " — another process has this database open; close it there, or open a copy"
            : message.Contains("Permission denied", StringComparison.OrdinalIgnoreCase) || message.Contains("read-only", StringComparison.OrdinalIgnoreCase)
                ? " — the file (or its directory) is not writable; fix its permissions or open a writable copy"
                : "";
        return $"cannot open the database {(file is null ? "in memory" : $"'{file}'")}: {message.Replace("cannot open DuckDB database: ", "", StringComparison.Ordinal)}{hint}";
    }
}
