using System.Globalization;
using System.Text;
using Duckton.Cli.Output;
using Duckton.Core.Data;

namespace Duckton.Cli;

/// <summary>
/// The <c>duckton sql</c> shell, with the DuckDB CLI's habits: statements end with <c>;</c>, dot-commands
/// (<c>.mode</c>, <c>.timer</c>, <c>.tables</c>, <c>.schema</c>, <c>.read</c>, <c>.output</c>/<c>.once</c>,
/// <c>.headers</c>, <c>.nullvalue</c>, <c>.maxrows</c>, <c>.help</c>, <c>.quit</c>) control it.
/// </summary>
internal sealed class Shell : IStatementWatcher, IDisposable
{
    private readonly SqlSession _session;
    private readonly bool _interactive;
    private readonly ProgressDisplay? _progress;
    private string _mode;
    private bool _headers = true;
    private string? _nullValue;
    private int _maxRows = 40;
    private bool _timer;
    private TextWriter? _file;
    private bool _once;
    private bool _failed;
    private int? _exitCode;
    private int _readDepth;
    private long _timerStart;
    private TimeSpan _userStart;
    private TimeSpan _sysStart;

    public Shell(SqlSession session, string format, bool interactive, bool showProgress)
    {
        _session = session;
        _mode = format;
        _interactive = interactive;
        if (showProgress)
        {
            session.TrackProgress();
            _progress = new ProgressDisplay(session, Console.Error, TimeProvider.System);
        }
    }

    /// <summary>Where results go now: the <c>.output</c>/<c>.once</c> file, else stdout.</summary>
    private TextWriter Out => _file ?? Console.Out;

    public int Run()
    {
        var editor = new LineEditor(Path.Combine(_session.ConfigDirectory, "duckton_history"));
        if (_interactive)
        {
            Console.WriteLine("duckton SQL shell — every p2p_* function is available. End statements with ';'. .help for help, .quit to leave.");
            Console.WriteLine(_session.DatabasePath is { } path ? $"Database: {Path.GetFullPath(path)}" : "Database: in memory (pass a file name to keep tables: duckton sql my.duckdb)");
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                _session.Interrupt();
            };
        }
        var pending = new StringBuilder();
        try
        {
            while (_exitCode is null)
            {
                var line = editor.ReadLine(_interactive ? (pending.Length == 0 ? "D " : "· ") : "", out var interrupted);
                if (line is null)
                {
                    break;
                }
                if (interrupted)
                {
                    pending.Clear(); // Ctrl+C drops the statement being typed, as DuckDB's shell does
                    continue;
                }
                var statement = Feed(line, pending);
                if (statement is not null)
                {
                    editor.Add(statement.Trim());
                }
            }
            if (_exitCode is null && pending.ToString().Trim().Length > 0)
            {
                RunSql(pending.ToString());
            }
        }
        finally
        {
            CloseOutput();
        }
        return _exitCode ?? (_failed && !_interactive ? 1 : 0);
    }

    /// <summary>
    /// Takes one input line: a dot-command runs at once, SQL collects in <paramref name="pending"/> until a
    /// statement is complete and then runs. Returns what was run (for the history), or null.
    /// </summary>
    private string? Feed(string line, StringBuilder pending)
    {
        if (pending.ToString().Trim().Length == 0 && line.TrimStart().StartsWith('.'))
        {
            pending.Clear();
            DotCommand(line.Trim());
            return line;
        }
        pending.Append(line).Append('\n');
        if (!SqlText.IsComplete(pending.ToString()))
        {
            return null;
        }
        var sql = pending.ToString();
        pending.Clear();
        RunSql(sql);
        return sql;
    }

    private void RunSql(string sql)
    {
        var options = new RenderOptions(_headers, _nullValue, _file is null ? _maxRows : 0); // a file gets every row
        _failed |= !_session.Run(sql, Renderers.For(_mode, options), Out, Console.Error, this);
        EndOfCommand();
    }

    void IStatementWatcher.Started()
    {
        _timerStart = System.Diagnostics.Stopwatch.GetTimestamp();
        var cpu = Environment.CpuUsage;
        (_userStart, _sysStart) = (cpu.UserTime, cpu.PrivilegedTime);
        _progress?.Started();
    }

    void IStatementWatcher.Executed() => _progress?.Executed();

    void IStatementWatcher.Finished()
    {
        if (!_timer)
        {
            return;
        }
        var real = System.Diagnostics.Stopwatch.GetElapsedTime(_timerStart).TotalSeconds;
        var cpu = Environment.CpuUsage;
        // Always on stdout (not the .output file), as DuckDB's shell prints it.
        Console.Out.WriteLine(string.Format(CultureInfo.InvariantCulture, "Run Time (s): real {0:F3} user {1:F6} sys {2:F6}",
            real, (cpu.UserTime - _userStart).TotalSeconds, (cpu.PrivilegedTime - _sysStart).TotalSeconds));
        Console.Out.Flush();
    }

    /// <summary>A <c>.once</c> file takes the output of one command only.</summary>
    private void EndOfCommand()
    {
        if (_once)
        {
            CloseOutput();
        }
    }

    /// <summary>Closes an <c>.output</c> file still open when the shell ends.</summary>
    public void Dispose() => CloseOutput();

    private void CloseOutput()
    {
        _file?.Dispose();
        _file = null;
        _once = false;
    }

    private bool OpenOutput(string path, bool once)
    {
        CloseOutput();
        try
        {
            _file = new StreamWriter(path, append: false, new UTF8Encoding(false)) { NewLine = "\n" };
            _once = once;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return Fail($"cannot open \"{path}\" for writing: {e.Message}");
        }
    }

    private bool Fail(string message)
    {
        Console.Error.WriteLine($"Error: {message}");
        _failed = true;
        return false;
    }

    private bool Usage(string name) => Fail($"usage: {ShellCommands.Find(name)!.Usage}");

    /// <summary>Runs one dot-command line.</summary>
    private void DotCommand(string line)
    {
        var args = ShellCommands.Split(line);
        var name = args[0];
        var command = ShellCommands.Find(name);
        if (command is null)
        {
            Fail($"unknown command or invalid arguments: \"{name[1..]}\". Enter \".help\" for help");
            return;
        }
        var once = _once;
        switch (command.Name)
        {
            case ".quit":
                _exitCode = 0;
                return;
            case ".exit":
                if (args.Count > 1 && !int.TryParse(args[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                {
                    Usage(".exit");
                    return;
                }
                _exitCode = args.Count > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 0;
                return;
            case ".help":
                ShellCommands.Help(Out, args.Count > 1 ? args[1] : null);
                break;
            case ".mode" when args.Count == 1:
                Out.WriteLine($"current output mode: {_mode}");
                break;
            case ".mode" when args.Count == 2 && Renderers.Formats.Contains(args[1]):
                _mode = args[1];
                break;
            case ".mode":
                Fail($"mode should be one of: {string.Join(' ', Renderers.Formats)}");
                break;
            case ".headers" when args.Count == 2 && OnOff(args[1]) is { } on:
                _headers = on;
                break;
            case ".timer" when args.Count == 2 && OnOff(args[1]) is { } on:
                _timer = on;
                break;
            case ".nullvalue" when args.Count == 2:
                _nullValue = args[1];
                break;
            case ".maxrows" when args.Count == 2 && int.TryParse(args[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var rows) && rows >= 0:
                _maxRows = rows;
                break;
            case ".output" when args.Count == 1:
                CloseOutput();
                break;
            case ".output" when args.Count == 2:
                OpenOutput(args[1], once: false);
                return; // the new file is not "used up" by this command
            case ".once" when args.Count == 2:
                OpenOutput(args[1], once: true);
                return;
            case ".read" when args.Count == 2:
                Read(args[1]);
                break;
            case ".tables" when args.Count <= 2:
                Tables(args.Count == 2 ? args[1] : "%");
                break;
            case ".schema" when args.Count <= 2:
                Schema(args.Count == 2 ? args[1] : "%");
                break;
            default:
                Usage(command.Name);
                break;
        }
        if (once)
        {
            EndOfCommand();
        }
    }

    private static bool? OnOff(string value) => value.ToLowerInvariant() switch
    {
        "on" or "yes" or "true" or "1" => true,
        "off" or "no" or "false" or "0" => false,
        _ => null,
    };

    /// <summary><c>.read FILE</c>: the file's lines go through the shell as if typed (dot-commands included).</summary>
    private void Read(string path)
    {
        if (_readDepth >= 16)
        {
            Fail($".read nested too deeply at \"{path}\"");
            return;
        }
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            Fail($"cannot open \"{path}\": {e.Message}");
            return;
        }
        _readDepth++;
        try
        {
            var pending = new StringBuilder();
            foreach (var line in lines)
            {
                if (_exitCode is not null)
                {
                    return;
                }
                Feed(line, pending);
            }
            if (_exitCode is null && pending.ToString().Trim().Length > 0)
            {
                RunSql(pending.ToString());
            }
        }
        finally
        {
            _readDepth--;
        }
    }

    /// <summary><c>.tables [PATTERN]</c>: table and view names (LIKE pattern), in columns, as DuckDB's shell lists them.</summary>
    private void Tables(string pattern)
    {
        var names = Strings("SELECT name FROM (SELECT table_name AS name FROM duckdb_tables() WHERE NOT internal UNION "
            + "SELECT view_name FROM duckdb_views() WHERE NOT internal) WHERE name LIKE $1 ORDER BY name", pattern);
        if (names is null || names.Count == 0)
        {
            return;
        }
        var width = names.Max(TextWidth.Of);
        var perLine = Math.Max(1, 80 / (width + 2));
        var lines = (names.Count + perLine - 1) / perLine;
        var sb = new StringBuilder();
        for (var i = 0; i < lines; i++)
        {
            var row = new StringBuilder();
            for (var j = i; j < names.Count; j += lines)
            {
                if (j > i)
                {
                    row.Append("  ");
                }
                row.Append(names[j]).Append(' ', width - TextWidth.Of(names[j]));
            }
            sb.Append(row.ToString().TrimEnd()).Append('\n');
        }
        Out.Write(sb.ToString());
    }

    /// <summary><c>.schema [PATTERN]</c>: the CREATE statements of tables, views and indexes (of the tables matching PATTERN).</summary>
    private void Schema(string pattern)
    {
        var statements = Strings("SELECT sql FROM ("
            + "SELECT table_name AS name, 0 AS kind, sql FROM duckdb_tables() WHERE NOT internal "
            + "UNION ALL SELECT view_name, 1, sql FROM duckdb_views() WHERE NOT internal "
            + "UNION ALL SELECT table_name, 2, sql FROM duckdb_indexes() WHERE sql IS NOT NULL) "
            + "WHERE name LIKE $1 ORDER BY name, kind, sql", pattern);
        foreach (var sql in statements ?? [])
        {
            var text = sql.TrimEnd();
            Out.Write(text.EndsWith(';') ? text : text + ";");
            Out.Write('\n');
        }
    }

    private List<string>? Strings(string sql, string parameter)
    {
        try
        {
            var result = _session.QueryWith(sql, parameter);
            return Renderers.Cells(result, "").Select(c => c[0]).ToList();
        }
        catch (Duckton.DuckDB.DuckDBException e)
        {
            Fail(e.Message);
            return null;
        }
    }
}

/// <summary>Whether collected SQL text ends a statement: a <c>;</c> outside quotes and comments, then only blanks or comments.</summary>
internal static class SqlText
{
    public static bool IsComplete(string sql)
    {
        var endsWithSemicolon = false;
        var i = 0;
        while (i < sql.Length)
        {
            if (SqlComments.End(sql, i, out var closed) is var afterComment and >= 0)
            {
                if (!closed)
                {
                    return false;
                }
                i = afterComment;
                continue;
            }
            var c = sql[i];
            if (c is '\'' or '"')
            {
                var end = sql.IndexOf(c, i + 1);
                if (end < 0)
                {
                    return false; // a doubled quote ('it''s') closes and reopens, which this handles too
                }
                endsWithSemicolon = false;
                i = end + 1;
            }
            else
            {
                if (!char.IsWhiteSpace(c))
                {
                    endsWithSemicolon = c == ';';
                }
                i++;
            }
        }
        return endsWithSemicolon;
    }
}
