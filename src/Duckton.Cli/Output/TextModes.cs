using System.Text;
using Duckton.Core.Data;

namespace Duckton.Cli.Output;

/// <summary>
/// <c>.mode list</c>: one row per line, values separated by <c>|</c>, the column names first unless <c>.headers off</c>.
/// </summary>
internal sealed class ListRenderer(RenderOptions options) : IResultRenderer
{
    public void Render(ResultSet result, TextWriter output)
    {
        if (options.Headers)
        {
            output.Write(string.Join('|', result.Schema.Names));
            output.Write('\n');
        }
        foreach (var cells in Renderers.Cells(result, options.Null("NULL")))
        {
            output.Write(string.Join('|', cells));
            output.Write('\n');
        }
    }
}

/// <summary>
/// <c>.mode line</c>: one <c>name = value</c> line per column, names right-aligned (at least five wide), a blank
/// line between rows.
/// </summary>
internal sealed class LineRenderer(RenderOptions options) : IResultRenderer
{
    public void Render(ResultSet result, TextWriter output)
    {
        var names = result.Schema.Names;
        var width = Math.Max(5, names.Count == 0 ? 0 : names.Max(TextWidth.Of));
        var first = true;
        var sb = new StringBuilder();
        foreach (var cells in Renderers.Cells(result, options.Null("NULL")))
        {
            if (!first)
            {
                sb.Append('\n');
            }
            first = false;
            for (var c = 0; c < cells.Length; c++)
            {
                sb.Append(' ', width - TextWidth.Of(names[c])).Append(names[c]).Append(" = ").Append(cells[c]).Append('\n');
            }
            output.Write(sb.ToString());
            sb.Clear();
        }
    }
}

/// <summary>Column widths shared by the table and markdown modes: the widest of each column's name and values.</summary>
internal static class Columns
{
    public static (List<string[]> Rows, int[] Widths) Measure(IReadOnlyList<string> names, IEnumerable<string[]> rows)
    {
        var all = rows.ToList();
        var widths = names.Select(TextWidth.Of).ToArray();
        foreach (var cells in all)
        {
            for (var c = 0; c < widths.Length; c++)
            {
                widths[c] = Math.Max(widths[c], TextWidth.Of(cells[c]));
            }
        }
        return (all, widths);
    }

    public static void Padded(StringBuilder sb, string text, int width) => sb.Append(text).Append(' ', Math.Max(0, width - TextWidth.Of(text)));
}

/// <summary><c>.mode table</c>: an ASCII grid (<c>+---+</c>, <c>| a |</c>), the header always shown, values left-aligned.</summary>
internal sealed class TableRenderer(RenderOptions options) : IResultRenderer
{
    public void Render(ResultSet result, TextWriter output)
    {
        var names = result.Schema.Names;
        var (rows, widths) = Columns.Measure(names, Renderers.Cells(result, options.Null("NULL")));
        var sb = new StringBuilder();
        Rule(sb, widths);
        Row(sb, names.ToArray(), widths);
        Rule(sb, widths);
        foreach (var cells in rows)
        {
            Row(sb, cells, widths);
        }
        Rule(sb, widths);
        output.Write(sb.ToString());
    }

    private static void Rule(StringBuilder sb, int[] widths)
    {
        foreach (var w in widths)
        {
            sb.Append('+').Append('-', w + 2);
        }
        sb.Append("+\n");
    }

    private static void Row(StringBuilder sb, string[] cells, int[] widths)
    {
        for (var c = 0; c < widths.Length; c++)
        {
            sb.Append(c == 0 ? "| " : " | ");
            Columns.Padded(sb, cells[c], widths[c]);
        }
        sb.Append(" |\n");
    }
}

/// <summary>
/// <c>.mode markdown</c>: a GitHub-flavoured Markdown table, numeric columns right-aligned by the separator row
/// (<c>---:</c>), <c>|</c> inside values escaped as <c>\|</c>.
/// </summary>
internal sealed class MarkdownRenderer(RenderOptions options) : IResultRenderer
{
    public void Render(ResultSet result, TextWriter output)
    {
        var names = result.Schema.Names.Select(Escape).ToArray();
        var (rows, widths) = Columns.Measure(names, Renderers.Cells(result, options.Null("NULL")).Select(r => r.Select(Escape).ToArray()));
        var sb = new StringBuilder();
        Row(sb, names, widths);
        for (var c = 0; c < widths.Length; c++)
        {
            sb.Append('|');
            if (TypeDisplay.IsNumeric(result.Schema.Types[c]))
            {
                sb.Append('-', widths[c] + 1).Append(':');
            }
            else
            {
                sb.Append('-', widths[c] + 2);
            }
        }
        sb.Append("|\n");
        foreach (var cells in rows)
        {
            Row(sb, cells, widths);
        }
        output.Write(sb.ToString());
    }

    private static string Escape(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);

    private static void Row(StringBuilder sb, string[] cells, int[] widths)
    {
        for (var c = 0; c < widths.Length; c++)
        {
            sb.Append(c == 0 ? "| " : " | ");
            Columns.Padded(sb, cells[c], widths[c]);
        }
        sb.Append(" |\n");
    }
}

/// <summary>Terminal columns a string takes: one per text element, two for wide East Asian and emoji ones.</summary>
internal static class TextWidth
{
    public static int Of(string s)
    {
        var width = 0;
        var e = System.Globalization.StringInfo.GetTextElementEnumerator(s);
        while (e.MoveNext())
        {
            var v = Rune.GetRuneAt(s, e.ElementIndex).Value;
            width += v >= 0x1100 && (v <= 0x115F || (v >= 0x2E80 && v <= 0xA4CF) || (v >= 0xAC00 && v <= 0xD7A3)
                || (v >= 0xF900 && v <= 0xFAFF) || (v >= 0xFF00 && v <= 0xFF60) || (v >= 0x1F300 && v <= 0x1FAFF)) ? 2 : 1;
        }
        return width;
    }
}
