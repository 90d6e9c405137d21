using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Duckton.Core.Data;

/// <summary>
/// GEOMETRY values as DuckDB 1.5 stores them: ISO well-known binary (WKB). Used to refuse malformed bytes from a peer
/// before DuckDB sees them, and to show a value as DuckDB's WKT text.
/// </summary>
internal static class Wkb
{
    private const int MaxDepth = 64;

    private static readonly string[] s_names = ["", "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"];

    /// <summary>True when <paramref name="wkb"/> is exactly one well-formed ISO WKB geometry (types 1–7, XY/Z/M/ZM).</summary>
    public static bool IsValid(ReadOnlySpan<byte> wkb)
    {
        var pos = 0;
        return Walk(wkb, ref pos, null, 0, null) && pos == wkb.Length;
    }

    /// <summary>Appends the WKT text DuckDB shows for the geometry (<c>POINT (1 2)</c>, <c>POINT Z (1 2 3)</c>, <c>LINESTRING EMPTY</c>).</summary>
    public static void AppendWkt(StringBuilder sb, ReadOnlySpan<byte> wkb)
    {
        var pos = 0;
        if (!Walk(wkb, ref pos, sb, 0, null))
        {
            throw new FormatException("malformed GEOMETRY (WKB)");
        }
    }

    private static bool Walk(ReadOnlySpan<byte> b, ref int pos, StringBuilder? sb, int depth, int? parentDims)
    {
        if (depth > MaxDepth || pos + 5 > b.Length || b[pos] > 1)
        {
            return false;
        }
        var little = b[pos] == 1;
        var code = U32(b, pos + 1, little);
        pos += 5;
        var kind = (int)(code % 1000);
        var flavour = code / 1000;
        if (kind is < 1 or > 7 || flavour > 3)
        {
            return false;
        }
        var hasZ = flavour is 1 or 3;
        var hasM = flavour is 2 or 3;
        var dims = 2 + (hasZ ? 1 : 0) + (hasM ? 1 : 0);
        if (parentDims is { } p && p != dims)
        {
            return false; // a collection's parts share its dimensions
        }
        sb?.Append(s_names[kind]).Append(flavour switch { 1 => " Z", 2 => " M", 3 => " ZM", _ => "" });
        switch (kind)
        {
            case 1:
            {
                if (pos + dims * 8 > b.Length)
                {
                    return false;
                }
                var empty = true;
                for (var d = 0; d < dims; d++)
                {
                    empty &= double.IsNaN(F64(b, pos + d * 8, little));
                }
                if (sb is not null)
                {
                    if (empty)
                    {
                        sb.Append(" EMPTY");
                    }
                    else
                    {
                        sb.Append(" (");
                        AppendCoords(sb, b, pos, dims, little);
                        sb.Append(')');
                    }
                }
                pos += dims * 8;
                return true;
            }
            case 2:
                return Points(b, ref pos, sb, dims, little, parenthesised: true);
            case 3:
            {
                if (!Count(b, ref pos, little, 4, out var rings))
                {
                    return false;
                }
                sb?.Append(rings == 0 ? " EMPTY" : " (");
                for (var r = 0; r < rings; r++)
                {
                    sb?.Append(r == 0 ? "" : ", ");
                    if (!Points(b, ref pos, sb, dims, little, parenthesised: false))
                    {
                        return false;
                    }
                }
                sb?.Append(rings == 0 ? "" : ")");
                return true;
            }
            default:
            {
                if (!Count(b, ref pos, little, 5, out var parts))
                {
                    return false;
                }
                sb?.Append(parts == 0 ? " EMPTY" : " (");
                for (var i = 0; i < parts; i++)
                {
                    sb?.Append(i == 0 ? "" : ", ");
                    var start = pos;
                    // MULTIPOINT/MULTILINESTRING/MULTIPOLYGON hold only their one kind; a collection holds any.
                    if (kind != 7 && (start + 5 > b.Length || (int)(U32(b, start + 1, b[start] == 1) % 1000) != kind - 3))
                    {
                        return false;
                    }
                    // DuckDB writes a multi-geometry's parts without their type name: MULTIPOINT (1 2, 3 4).
                    var inner = kind == 7 ? sb : null;
                    if (!Walk(b, ref pos, inner, depth + 1, dims))
                    {
                        return false;
                    }
                    if (kind != 7 && sb is not null)
                    {
                        var part = new StringBuilder();
                        var again = start;
                        Walk(b, ref again, part, depth + 1, dims);
                        var text = part.ToString();
                        var open = text.IndexOf('(', StringComparison.Ordinal);
                        sb.Append(kind == 4 && open >= 0 ? text[(open + 1)..^1] : open >= 0 ? text[open..] : "EMPTY");
                    }
                }
                sb?.Append(parts == 0 ? "" : ")");
                return true;
            }
        }
    }

    private static bool Points(ReadOnlySpan<byte> b, ref int pos, StringBuilder? sb, int dims, bool little, bool parenthesised)
    {
        if (!Count(b, ref pos, little, dims * 8, out var n))
        {
            return false;
        }
        if (sb is not null)
        {
            sb.Append(n == 0 ? (parenthesised ? " EMPTY" : "EMPTY") : parenthesised ? " (" : "(");
            for (var i = 0; i < n; i++)
            {
                sb.Append(i == 0 ? "" : ", ");
                AppendCoords(sb, b, pos + i * dims * 8, dims, little);
            }
            sb.Append(n == 0 ? "" : ")");
        }
        pos += n * dims * 8;
        return true;
    }

    /// <summary>Reads a count and checks that at least <paramref name="minBytesEach"/> bytes per item remain.</summary>
    private static bool Count(ReadOnlySpan<byte> b, ref int pos, bool little, int minBytesEach, out int count)
    {
        count = 0;
        if (pos + 4 > b.Length)
        {
            return false;
        }
        var n = U32(b, pos, little);
        pos += 4;
        if (n > (uint)((b.Length - pos) / minBytesEach))
        {
            return false;
        }
        count = (int)n;
        return true;
    }

    private static void AppendCoords(StringBuilder sb, ReadOnlySpan<byte> b, int at, int dims, bool little)
    {
        for (var d = 0; d < dims; d++)
        {
            if (d > 0)
            {
                sb.Append(' ');
            }
            var v = F64(b, at + d * 8, little);
            // Shortest round-trip digits, exponent as C prints it (1e+20).
            sb.Append(v.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal));
        }
    }

    private static uint U32(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b[at..]) : BinaryPrimitives.ReadUInt32BigEndian(b[at..]);

    private static double F64(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? BinaryPrimitives.ReadDoubleLittleEndian(b[at..]) : BinaryPrimitives.ReadDoubleBigEndian(b[at..]);
}
