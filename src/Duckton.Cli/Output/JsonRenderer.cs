using System.Text;
using System.Text.Json;
using Duckton.Core.Data;

namespace Duckton.Cli.Output;

/// <summary>
/// <c>json</c>: an array with one object per row, one row per line (as DuckDB's <c>.mode json</c> prints it);
/// <c>jsonlines</c>: one object per line and nothing else (an empty result prints nothing). NULL is always <c>null</c>.
/// </summary>
internal sealed class JsonRenderer(bool lines) : IResultRenderer
{
    public void Render(ResultSet result, TextWriter output)
    {
        var buffer = new MemoryStream();
        var first = true;
        if (!lines)
        {
            output.Write('[');
        }
        foreach (var (batch, row) in Renderers.Rows(result))
        {
            buffer.SetLength(0);
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                writer.WriteStartObject();
                for (var c = 0; c < batch.Columns.Length; c++)
                {
                    writer.WritePropertyName(result.Schema.Names[c]);
                    JsonValueWriter.Write(writer, batch.Columns[c], row);
                }
                writer.WriteEndObject();
            }
            if (!first)
            {
                output.Write(lines ? "\n" : ",\n");
            }
            first = false;
            output.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }
        if (!lines)
        {
            output.Write("]\n");
        }
        else if (!first)
        {
            output.Write('\n');
        }
    }
}
