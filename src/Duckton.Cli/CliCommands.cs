using System.CommandLine;
using Duckton.Cli.Output;
using Duckton.Node;

namespace Duckton.Cli;

/// <summary>The <c>duckton</c> command tree (SPEC §3).</summary>
internal static class CliCommands
{
    public static RootCommand Build()
    {
        var root = new RootCommand("duckton — DuckDB as a node of a trustless peer-to-peer query grid");
        root.Subcommands.Add(SqlCommand());
        root.Subcommands.Add(BenchCommand());
        root.Subcommands.Add(HostCommands.Host(ConfigDirOption()));
        root.Subcommands.Add(HostCommands.GridUp());
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

    private static Option<string?> ConfigDirOption() => new("--config-dir")
    {
        Description = "Configuration directory (default: $P2P_CONFIG_DIR, else $XDG_CONFIG_HOME/duckdb-p2p, else ~/.config/duckdb-p2p)",
    };

    private static Command BenchCommand()
    {
        var configDir = ConfigDirOption();
        var rows = new Option<long>("--rows") { Description = "Rows of the large query", DefaultValueFactory = _ => 1_000_000 };
        var runs = new Option<int>("--runs") { Description = "Timed runs per figure (median reported)", DefaultValueFactory = _ => 7 };
        var local = new Command("local", "Local p2p_query against the same query run directly, and small-query latency (SPEC §6)");
        local.Options.Add(configDir);
        local.Options.Add(rows);
        local.Options.Add(runs);
        local.SetAction(parse => LocalBenchmark.Run(ConfigDirectory.Resolve(parse.GetValue(configDir)), parse.GetValue(rows), parse.GetValue(runs), Console.Out));
        var gridRows = new Option<long>("--rows") { Description = "Rows of the streamed result", DefaultValueFactory = _ => 1_000_000 };
        var gridRuns = new Option<int>("--runs") { Description = "Timed small queries per figure", DefaultValueFactory = _ => 500 };
        var grid = new Command("grid", "Verified remote queries on a loopback grid of real host processes (SPEC §6)");
        grid.Options.Add(gridRows);
        grid.Options.Add(gridRuns);
        var spillOnly = new Option<bool>("--spill-only") { Description = "Only the requester's spill-to-disk cost (in-memory vs spilled result)" };
        grid.Options.Add(spillOnly);
        grid.SetAction(parse => GridBenchmark.Run(parse.GetValue(gridRows), parse.GetValue(gridRuns), Console.Out, parse.GetValue(spillOnly)));
        var bench = new Command("bench", "End-to-end benchmarks");
        bench.Subcommands.Add(local);
        bench.Subcommands.Add(grid);
        return bench;
    }

    private static Command SqlCommand()
    {
        var configDir = ConfigDirOption();
        var format = new Option<string>("--format") { Description = "Output format", DefaultValueFactory = _ => "box" };
        format.AcceptOnlyFromAmong(Renderers.Formats);
        var commands = new Option<string[]>("-c", "--command")
        {
            Description = "Run this SQL (repeatable; run in order) instead of the interactive shell",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("sql", "Run SQL against an embedded in-memory DuckDB that has every p2p_* function");
        command.Options.Add(configDir);
        command.Options.Add(format);
        command.Options.Add(commands);
        command.SetAction(parse =>
        {
            var dir = ConfigDirectory.Resolve(parse.GetValue(configDir));
            var fmt = parse.GetValue(format)!;
            using var session = new SqlSession(dir);
            var statements = parse.GetValue(commands) ?? [];
            if (statements.Length == 0)
            {
                return new Shell(session, fmt).Run();
            }
            foreach (var sql in statements)
            {
                if (!session.Run(sql, Renderers.For(fmt), Console.Out, Console.Error))
                {
                    return 1;
                }
            }
            return 0;
        });
        return command;
    }
}
