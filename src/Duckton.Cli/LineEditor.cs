using System.Text;

namespace Duckton.Cli;

/// <summary>
/// A small line editor for the interactive shell: cursor movement, Home/End, Backspace/Delete, Up/Down through
/// history, Ctrl+C to drop the line, Ctrl+D to leave on an empty line. History is kept owner-only in the config dir.
/// </summary>
internal sealed class LineEditor
{
    private const int MaxHistory = 1000;
    private readonly List<string> _history = [];
    private readonly string? _historyFile;

    public LineEditor(string? historyFile)
    {
        _historyFile = historyFile;
        if (historyFile is not null && File.Exists(historyFile))
        {
            _history.AddRange(File.ReadAllLines(historyFile).TakeLast(MaxHistory));
        }
    }

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
        if (string.IsNullOrWhiteSpace(entry) || (_history.Count > 0 && _history[^1] == entry))
        {
            return;
        }
        _history.Add(entry);
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
            File.AppendAllText(_historyFile, entry.ReplaceLineEndings(" ") + "\n");
        }
        catch (IOException)
        {
            // History is a convenience; a read-only config dir must not break the shell.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
