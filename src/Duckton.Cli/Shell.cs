using System.Text;
using Duckton.Cli.Output;

namespace Duckton.Cli;

/// <summary>The interactive <c>duckton sql</c> shell: statements end with <c>;</c>, dot-commands control it.</summary>
internal sealed class Shell(SqlSession session, string format)
{
    private string _format = format;

    public int Run()
    {
        var editor = new LineEditor(Path.Combine(session.ConfigDirectory, "duckton_history"));
        var interactive = !Console.IsInputRedirected;
        if (interactive)
        {
            Console.WriteLine("duckton SQL shell — every p2p_* function is available. End statements with ';'. .help for help, .quit to leave.");
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                session.Interrupt();
            };
        }
        var pending = new StringBuilder();
        var failed = false;
        while (true)
        {
            var line = editor.ReadLine(interactive ? (pending.Length == 0 ? "D " : "· ") : "");
            if (line is null)
            {
                break;
            }
            if (pending.Length == 0 && line.TrimStart().StartsWith('.'))
            {
                editor.Add(line);
                if (!DotCommand(line.Trim()))
                {
                    break;
                }
                continue;
            }
            pending.AppendLine(line);
            if (!line.TrimEnd().EndsWith(';'))
            {
                continue;
            }
            var sql = pending.ToString();
            pending.Clear();
            editor.Add(sql.Trim());
            failed |= !session.Run(sql, Renderers.For(_format), Console.Out, Console.Error);
        }
        if (pending.ToString().Trim().Length > 0)
        {
            failed |= !session.Run(pending.ToString(), Renderers.For(_format), Console.Out, Console.Error);
        }
        return failed && !interactive ? 1 : 0;
    }

    /// <summary>Handles a dot-command; false means leave the shell.</summary>
    private bool DotCommand(string command)
    {
        var parts = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        switch (parts[0])
        {
            case ".quit" or ".exit":
                return false;
            case ".mode" when parts.Length == 2 && Renderers.Formats.Contains(parts[1]):
                _format = parts[1];
                return true;
            case ".help":
                Console.WriteLine(".mode box|csv|json   output format\n.quit                leave the shell\nSQL statements end with ';'. Try: SELECT * FROM p2p_query('SELECT 42 AS answer');");
                return true;
            default:
                Console.Error.WriteLine($"Error: unknown command {command}; try .help");
                return true;
        }
    }
}
