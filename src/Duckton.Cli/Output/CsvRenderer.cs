using Duckton.Core.Data;

namespace Duckton.Cli.Output;

/// <summary>RFC 4180 CSV with a header line; NULL is an empty field.</summary>
internal sealed class CsvRenderer : IResultRenderer
{
    public void Render(ResultSet result, TextWriter output)
    {
        output.WriteLine(string.Join(',', result.Schema.Names.Select(Quote)));
        foreach (var (batch, row) in Renderers.Rows(result))
        {
            for (var c = 0; c < batch.Columns.Length; c++)
            {
                if (c > 0)
                {
                    output.Write(',');
                }
                var text = ValueFormatter.Format(batch.Columns[c], row);
                if (text is not null)
                {
                    output.Write(Quote(text));
                }
            }
            output.WriteLine();
        }
    }

    private static string Quote(string s) =>
        s.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (s.Length > 0 && (char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1])))
            ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : s;
}
