using Duckton.Core.Data;

namespace Duckton.Cli.Output;

/// <summary>Writes one statement's result to the terminal or a pipe.</summary>
internal interface IResultRenderer
{
    void Render(ResultSet result, TextWriter output);
}

/// <summary>
/// What the shell's <c>.headers</c>, <c>.nullvalue</c> and <c>.maxrows</c> set. <paramref name="NullValue"/> null
/// means each mode's own default (<c>NULL</c>; empty in csv; <c>null</c> in JSON, which never changes);
/// <paramref name="MaxRows"/> 0 shows every row.
/// </summary>
internal sealed record RenderOptions(bool Headers = true, string? NullValue = null, int MaxRows = 40)
{
    public static RenderOptions Default { get; } = new();

    public string Null(string modeDefault) => NullValue ?? modeDefault;
}

internal static class Renderers
{
    /// <summary>Every output mode, as <c>.mode</c> and <c>--format</c> accept them.</summary>
    public static readonly string[] Formats = ["box", "csv", "json", "jsonlines", "line", "list", "markdown", "table"];

    public static IResultRenderer For(string format, RenderOptions? options = null)
    {
        var o = options ?? RenderOptions.Default;
        return format switch
        {
            "box" => new BoxRenderer(o),
            "csv" => new CsvRenderer(o),
            "json" => new JsonRenderer(lines: false),
            "jsonlines" => new JsonRenderer(lines: true),
            "line" => new LineRenderer(o),
            "list" => new ListRenderer(o),
            "markdown" => new MarkdownRenderer(o),
            "table" => new TableRenderer(o),
            _ => throw new ArgumentException($"unknown format '{format}'; use one of {string.Join(", ", Formats)}"),
        };
    }

    /// <summary>Visits every row of a result in order.</summary>
    public static IEnumerable<(ResultBatch Batch, int Row)> Rows(ResultSet result)
    {
        foreach (var b in result.Batches)
        {
            for (var r = 0; r < b.RowCount; r++)
            {
                yield return (b, r);
            }
        }
    }

    /// <summary>Every row as text, NULL spelled <paramref name="nullText"/>.</summary>
    public static IEnumerable<string[]> Cells(ResultSet result, string nullText)
    {
        foreach (var (batch, row) in Rows(result))
        {
            var cells = new string[batch.Columns.Length];
            for (var c = 0; c < cells.Length; c++)
            {
                cells[c] = ValueFormatter.Format(batch.Columns[c], row) ?? nullText;
            }
            yield return cells;
        }
    }
}
