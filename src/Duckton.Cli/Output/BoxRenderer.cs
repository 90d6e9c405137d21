using System.Globalization;
using System.Text;
using Duckton.Core.Data;

namespace Duckton.Cli.Output;

/// <summary>
/// DuckDB-CLI-style boxes: centred column names with their types below, numbers right-aligned, text left-aligned,
/// NULL spelled out; long results show their first and last rows with a row count.
/// </summary>
internal sealed class BoxRenderer(RenderOptions options) : IResultRenderer
{
    private const int MaxCellWidth = 80;
    // .maxrows N: the first ceil(N/2) and the last floor(N/2) rows of a longer result; 0 shows every row.
    private readonly int _maxRows = options.MaxRows <= 0 ? int.MaxValue : Math.Max(1, options.MaxRows);

    public void Render(ResultSet result, TextWriter output)
    {
        var schema = result.Schema;
        var n = schema.Count;
        var total = result.RowCount;
        var shown = new List<string[]>();
        var elided = total > _maxRows;
        var head = _maxRows - (_maxRows / 2);
        var tail = _maxRows / 2;
        var index = 0L;
        foreach (var (batch, row) in Renderers.Rows(result))
        {
            if (!elided || index < head || index >= total - tail)
            {
                var cells = new string[n];
                for (var c = 0; c < n; c++)
                {
                    cells[c] = Truncate(ValueFormatter.Format(batch.Columns[c], row) ?? options.Null("NULL"));
                }
                shown.Add(cells);
            }
            index++;
        }
        var typeNames = schema.Types.Select(TypeDisplay.Name).ToArray();
        var widths = new int[n];
        for (var c = 0; c < n; c++)
        {
            widths[c] = Math.Max(Width(schema.Names[c]), Width(typeNames[c]));
            foreach (var cells in shown)
            {
                widths[c] = Math.Max(widths[c], Width(cells[c]));
            }
        }
        var sb = new StringBuilder();
        Line(sb, widths, '┌', '┬', '┐');
        Row(sb, widths, schema.Names.ToArray(), _ => Align.Center);
        Row(sb, widths, typeNames, _ => Align.Center);
        Line(sb, widths, '├', '┼', '┤');
        var align = schema.Types.Select(t => TypeDisplay.IsNumeric(t) ? Align.Right : Align.Left).ToArray();
        for (var i = 0; i < shown.Count; i++)
        {
            if (elided && i == head)
            {
                var dots = Enumerable.Repeat("·", n).ToArray();
                for (var k = 0; k < 3; k++)
                {
                    Row(sb, widths, dots, _ => Align.Center);
                }
            }
            Row(sb, widths, shown[i], c => align[c]);
        }
        if (elided)
        {
            var inner = widths.Sum() + (3 * n) - 1;
            var footer = $"{total.ToString("N0", CultureInfo.InvariantCulture)} rows ({_maxRows} shown)";
            Line(sb, widths, '├', '┴', '┤');
            sb.Append("│ ").Append(footer.PadRight(Math.Max(footer.Length, inner - 2))).Append(" │\n");
            sb.Append('└').Append(new string('─', Math.Max(inner, footer.Length + 2))).Append("┘\n");
        }
        else
        {
            Line(sb, widths, '└', '┴', '┘');
        }
        output.Write(sb.ToString());
    }

    private enum Align
    {
        Left,
        Right,
        Center,
    }

    private static void Line(StringBuilder sb, int[] widths, char left, char mid, char right)
    {
        sb.Append(left);
        for (var c = 0; c < widths.Length; c++)
        {
            if (c > 0)
            {
                sb.Append(mid);
            }
            sb.Append('─', widths[c] + 2);
        }
        sb.Append(right).Append('\n');
    }

    private static void Row(StringBuilder sb, int[] widths, string[] cells, Func<int, Align> align)
    {
        sb.Append('│');
        for (var c = 0; c < widths.Length; c++)
        {
            var pad = widths[c] - Width(cells[c]);
            var (l, r) = align(c) switch
            {
                Align.Right => (pad, 0),
                Align.Center => (pad / 2, pad - (pad / 2)),
                _ => (0, pad),
            };
            sb.Append(' ').Append(' ', l).Append(cells[c]).Append(' ', r).Append(" │");
        }
        sb.Length--;
        sb.Append("│\n");
    }

    private static string Truncate(string s)
    {
        s = s.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);
        return Width(s) <= MaxCellWidth ? s : s[..(MaxCellWidth - 1)] + "…";
    }

    private static int Width(string s) => TextWidth.Of(s);
}

/// <summary>Type names as the DuckDB CLI's box mode prints them (<c>int32</c>, <c>varchar</c>, <c>decimal(18,3)</c>...).</summary>
internal static class TypeDisplay
{
    public static string Name(DuckType t) => t.Id switch
    {
        DuckTypeId.Boolean => "boolean",
        DuckTypeId.TinyInt => "int8",
        DuckTypeId.SmallInt => "int16",
        DuckTypeId.Integer => "int32",
        DuckTypeId.BigInt => "int64",
        DuckTypeId.HugeInt => "int128",
        DuckTypeId.UTinyInt => "uint8",
        DuckTypeId.USmallInt => "uint16",
        DuckTypeId.UInteger => "uint32",
        DuckTypeId.UBigInt => "uint64",
        DuckTypeId.UHugeInt => "uint128",
        DuckTypeId.Decimal => $"decimal({t.Width},{t.Scale})",
        DuckTypeId.Enum => "enum",
        DuckTypeId.List => Name(t.Element!) + "[]",
        DuckTypeId.Array => $"{Name(t.Element!)}[{t.ArraySize}]",
        DuckTypeId.Struct => "struct(" + string.Join(", ", t.Fields.Select(f => $"{f.Name} {Name(f.Type)}")) + ")",
        DuckTypeId.Union => "union(" + string.Join(", ", t.Fields.Select(f => $"{f.Name} {Name(f.Type)}")) + ")",
        DuckTypeId.Map => $"map({Name(t.Fields[0].Type)}, {Name(t.Fields[1].Type)})",
        _ => DuckType.SqlName(t.Id).ToLowerInvariant(),
    };

    public static bool IsNumeric(DuckType t) => t.Id is DuckTypeId.TinyInt or DuckTypeId.SmallInt or DuckTypeId.Integer or DuckTypeId.BigInt
        or DuckTypeId.HugeInt or DuckTypeId.UTinyInt or DuckTypeId.USmallInt or DuckTypeId.UInteger or DuckTypeId.UBigInt
        or DuckTypeId.UHugeInt or DuckTypeId.Float or DuckTypeId.Double or DuckTypeId.Decimal;
}
