using System.Text;

namespace Duckton.Cli;

/// <summary>
/// A small line editor for the interactive shell: cursor movement, Home/End, Backspace/Delete, Up/Down through
/// history, Ctrl+C to drop the line, Ctrl+D to leave on an empty line. History is kept owner-only in the config dir.
/// </summary>
internal sealed class LineEditor
{
    /// <summary>Lines kept in the history file (and recalled): older ones are dropped.</summary>
    public const int MaxHistory = 10_000;

    private readonly List<string> _history = [];
    private readonly string? _historyFile;
    private int _fileLines;

    public LineEditor(string? historyFile)
    {
        _historyFile = historyFile;
        if (historyFile is not null && File.Exists(historyFile))
        {
            try
            {
                var lines = File.ReadAllLines(historyFile);
                _history.AddRange(lines.Where(l => !IsSecret(l)).TakeLast(MaxHistory));
                _fileLines = lines.Length;
                if (_history.Count != lines.Length)
                {
                    Rewrite(); // drops secrets an older version stored, and lines past the cap
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // History is a convenience.
            }
        }
    }

    private static readonly System.Text.RegularExpressions.Regex s_secretKey = new(
        "secret|password|passphrase|token|private|credential|api_key|access_key|mnemonic", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// Lines never written to history: anything with <c>p2p_wallet</c> or a mnemonic, and <c>p2p_set</c> of a
    /// secret-looking key (secret, password, token, private key, credential, ...).
    /// </summary>
    public static bool IsSecret(string line) =>
        line.Contains("p2p_wallet", StringComparison.OrdinalIgnoreCase)
        || line.Contains("mnemonic", StringComparison.OrdinalIgnoreCase)
        || (line.Contains("p2p_set", StringComparison.OrdinalIgnoreCase) && s_secretKey.IsMatch(line));

    public IReadOnlyList<string> History => _history;

    /// <summary>
    /// Reads a line; null at end of input (Ctrl+D on an empty line). <paramref name="interrupted"/> is true when
    /// Ctrl+C dropped the line (the caller drops any statement it was collecting too).
    /// </summary>
    public string? ReadLine(string prompt, out bool interrupted)
    {
        interrupted = false;
        if (Console.IsInputRedirected)
        {
            Console.Write(prompt);
            return Console.ReadLine();
        }
        // While editing, Ctrl+C is a key for this editor (it drops the line); while a statement runs it is SIGINT,
        // which interrupts the statement. Switched before the prompt appears: a Ctrl+C typed as soon as the prompt
        // shows must reach the editor, not become a signal.
        Console.TreatControlCAsInput = true;
        try
        {
            Console.Write(prompt);
            return Edit(prompt, out interrupted);
        }
        finally
        {
            Console.TreatControlCAsInput = false;
        }
    }

    private string? Edit(string prompt, out bool interrupted)
    {
        interrupted = false;
        var line = new StringBuilder();
        var cursor = 0;
        var historyIndex = _history.Count;
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            var control = key.Modifiers.HasFlag(ConsoleModifiers.Control);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    Console.WriteLine();
                    return line.ToString();
                case ConsoleKey.Backspace when cursor > 0:
                    line.Remove(--cursor, 1);
                    break;
                case ConsoleKey.Delete when cursor < line.Length:
                    line.Remove(cursor, 1);
                    break;
                case ConsoleKey.LeftArrow when cursor > 0:
                    cursor--;
                    break;
                case ConsoleKey.RightArrow when cursor < line.Length:
                    cursor++;
                    break;
                case ConsoleKey.Home:
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                    cursor = line.Length;
                    break;
                case ConsoleKey.UpArrow when historyIndex > 0:
                    historyIndex--;
                    line.Clear().Append(_history[historyIndex]);
                    cursor = line.Length;
                    break;
                case ConsoleKey.DownArrow when historyIndex < _history.Count:
                    historyIndex++;
                    line.Clear().Append(historyIndex < _history.Count ? _history[historyIndex] : "");
                    cursor = line.Length;
                    break;
                case ConsoleKey.D when control && line.Length == 0:
                    Console.WriteLine();
                    return null;
                case ConsoleKey.C when control:
                    Console.WriteLine("^C");
                    interrupted = true;
                    return "";
                default:
                    if (!char.IsControl(key.KeyChar))
                    {
                        line.Insert(cursor++, key.KeyChar);
                    }
                    break;
            }
            Redraw(prompt, line, cursor);
        }
    }

    private static void Redraw(string prompt, StringBuilder line, int cursor)
    {
        // Carriage return, prompt and line, clear to end of line, then put the cursor back.
        Console.Write($"\r{prompt}{line}\u001b[K");
        var back = line.Length - cursor;
        if (back > 0)
        {
            Console.Write($"\u001b[{back}D");
        }
    }

    public void Add(string entry)
    {
        if (string.IsNullOrWhiteSpace(entry) || (_history.Count > 0 && _history[^1] == entry) || IsSecret(entry))
        {
            return;
        }
        _history.Add(entry);
        if (_history.Count > MaxHistory)
        {
            _history.RemoveRange(0, _history.Count - MaxHistory);
        }
        if (_historyFile is null)
        {
            return;
        }
        try
        {
            var dir = Path.GetDirectoryName(_historyFile)!;
            Directory.CreateDirectory(dir);
            if (!File.Exists(_historyFile))
            {
                File.WriteAllText(_historyFile, "");
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(_historyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }
            if (_fileLines >= MaxHistory)
            {
                Rewrite(); // back to the cap (the in-memory list holds the newest lines, this one included)
                return;
            }
            File.AppendAllText(_historyFile, entry.ReplaceLineEndings(" ") + "\n");
            _fileLines++;
        }
        catch (IOException)
        {
            // History is a convenience; a read-only config dir must not break the shell.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Writes the kept history (owner-only) in place of the file: a new file renamed over the old one.</summary>
    private void Rewrite()
    {
        var keep = _history.TakeLast(MaxHistory * 9 / 10).ToList(); // room to append before the next rewrite
        var temp = _historyFile + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var writer = new StreamWriter(new FileStream(temp, options)))
        {
            foreach (var l in keep)
            {
                writer.Write(l.ReplaceLineEndings(" ") + "\n");
            }
        }
        File.Move(temp, _historyFile!, overwrite: true);
        _fileLines = keep.Count;
    }
}
