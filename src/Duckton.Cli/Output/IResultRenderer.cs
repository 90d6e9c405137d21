using Duckton.Core.Data;

namespace Duckton.Cli.Output;

/// <summary>Writes one statement's result to the terminal or a pipe.</summary>
internal interface IResultRenderer
{
    void Render(ResultSet result, TextWriter output);
}

internal static class Renderers
{
    public static readonly string[] Formats = ["box", "csv", "json"];

    public static IResultRenderer For(string format) => format switch
    {
        "box" => new BoxRenderer(),
        "csv" => new CsvRenderer(),
        "json" => new JsonRenderer(),
        _ => throw new ArgumentException($"unknown format '{format}'; use box, csv or json"),
    };

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
}
