using System.Text;

namespace Duckton.Cli;

/// <summary>One dot-command: its usage line, a one-line summary and the longer help <c>.help NAME</c> adds.</summary>
internal sealed record ShellCommand(string Name, string Arguments, string Summary, string Detail = "")
{
    public string Usage => Arguments.Length == 0 ? Name : $"{Name} {Arguments}";
}

/// <summary>The shell's dot-commands and their help.</summary>
internal static class ShellCommands
{
    public static readonly ShellCommand[] All =
    [
        new(".exit", "?CODE?", "Exit this program with return-code CODE (default 0)"),
        new(".headers", "on|off", "Turn display of headers on or off",
            "Applies to the csv and list modes; box, table and markdown always show the column names, json and line\nname every value."),
        new(".help", "?COMMAND?", "Show help for every command, or for COMMAND only (\".help mode\" or \".help .mode\")"),
        new(".maxrows", "COUNT", "Show at most COUNT rows in box mode (default 40; 0 shows every row)",
            "A longer result shows its first and last rows and how many there were. Output sent to a file with .output\nor .once always has every row."),
        new(".mode", "MODE", "Set the output mode (no MODE: show the current one)",
            """
            MODE is one of:
              box        Unicode box drawing, column types under the names, numbers right-aligned (default)
              csv        Comma-separated values (RFC 4180 quoting)
              json       A JSON array with one object per row
              jsonlines  One JSON object per line
              line       One "name = value" line per column, a blank line between rows
              list       Values separated by "|"
              markdown   A Markdown table
              table      An ASCII-art table
            """),
        new(".nullvalue", "STRING", "Use STRING in place of NULL values",
            "Default: NULL (an empty field in csv). JSON output always writes null."),
        new(".once", "FILE", "Write the output of the next command only to FILE"),
        new(".output", "?FILE?", "Send output to FILE, or back to stdout when FILE is omitted",
            "The file is created or truncated. Timer lines, errors and progress still go to the terminal."),
        new(".quit", "", "Exit this program"),
        new(".read", "FILE", "Read input from FILE",
            "Each line runs as if typed: SQL statements end with ';', dot-commands work too."),
        new(".schema", "?PATTERN?", "Show the CREATE statements of tables, views and indexes",
            "PATTERN is a LIKE pattern on the table or view name, e.g. .schema orders or .schema ord%."),
        new(".tables", "?PATTERN?", "List the names of tables and views (matching the LIKE pattern PATTERN)"),
        new(".timer", "on|off", "Turn the SQL timer on or off",
            "After each statement: Run Time (s): real SECONDS user SECONDS sys SECONDS (wall clock, user and system CPU\ntime of this process)."),
    ];

    /// <summary>The command named <paramref name="name"/> (with or without its leading dot; a unique prefix works, as in DuckDB's shell).</summary>
    public static ShellCommand? Find(string name)
    {
        var wanted = name.StartsWith('.') ? name : "." + name;
        if (All.FirstOrDefault(c => c.Name == wanted) is { } exact)
        {
            return exact;
        }
        // DuckDB's shell accepts abbreviations such as ".header" for ".headers".
        var matches = All.Where(c => c.Name.StartsWith(wanted, StringComparison.Ordinal)).ToList();
        return wanted.Length > 2 && matches.Count == 1 ? matches[0] : null;
    }

    /// <summary><c>.help</c>: every command's usage and summary; <c>.help NAME</c>: that command's, with its details.</summary>
    public static void Help(TextWriter output, string? name)
    {
        var sb = new StringBuilder();
        if (name is null)
        {
            foreach (var c in All)
            {
                sb.Append(c.Usage.PadRight(22)).Append(c.Summary).Append('\n');
            }
            sb.Append("SQL statements end with ';' and may span lines. Ctrl+C drops the statement being typed or interrupts a running one;\n")
              .Append("Ctrl+D leaves. Try: SELECT * FROM p2p_query('SELECT 42 AS answer');\n");
        }
        else if (Find(name) is { } c)
        {
            sb.Append(c.Usage.PadRight(22)).Append(c.Summary).Append('\n');
            if (c.Detail.Length > 0)
            {
                foreach (var line in c.Detail.Split('\n'))
                {
                    sb.Append("   ").Append(line).Append('\n');
                }
            }
        }
        else
        {
            sb.Append($"Nothing matches '{name}'\n");
        }
        output.Write(sb.ToString());
    }

    /// <summary>Splits a dot-command line into words; single or double quotes keep spaces inside one word.</summary>
    public static List<string> Split(string line)
    {
        var words = new List<string>();
        var i = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i]))
            {
                i++;
                continue;
            }
            var word = new StringBuilder();
            if (line[i] is '\'' or '"')
            {
                var quote = line[i++];
                while (i < line.Length && line[i] != quote)
                {
                    word.Append(line[i++]);
                }
                i++;
            }
            else
            {
                while (i < line.Length && !char.IsWhiteSpace(line[i]))
                {
                    word.Append(line[i++]);
                }
            }
            words.Add(word.ToString());
        }
        return words;
    }
}
