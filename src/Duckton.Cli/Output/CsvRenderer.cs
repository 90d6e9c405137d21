using Duckton.Core.Data;

namespace Duckton.Cli.Output;

/// <summary>RFC 4180 CSV with a header line (unless <c>.headers off</c>); NULL is an empty field unless <c>.nullvalue</c> says otherwise.</summary>
internal sealed class CsvRenderer(RenderOptions options) : IResultRenderer
{
    public void Render(ResultSet result, TextWriter output)
    {
        if (options.Headers)
        {
            output.WriteLine(string.Join(',', result.Schema.Names.Select(Quote)));
        }
        var nullText = options.Null("");
        foreach (var (batch, row) in Renderers.Rows(result))
        {
            for (var c = 0; c < batch.Columns.Length; c++)
            {
                if (c > 0)
                {
                    output.Write(',');
                }
                output.Write(Quote(ValueFormatter.Format(batch.Columns[c], row) ?? nullText));
            }
            output.WriteLine();
        }
    }

    private static string Quote(string s) =>
        s.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (s.Length > 0 && (char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1])))
            ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : s;
}
