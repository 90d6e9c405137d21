using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Duckton.Core.Data;

/// <summary>
/// Writes values as JSON: NULL as <c>null</c>, BOOLEAN as <c>true</c>/<c>false</c>, numbers as JSON numbers with their
/// exact digits (every integer width, DECIMAL, BIGNUM and finite floats), LIST and ARRAY as arrays, STRUCT as an
/// object, MAP as an object keyed by the keys' text, UNION as its active member; everything else — and floats that
/// JSON cannot hold (nan, inf) — as a string of its <see cref="ValueFormatter"/> text.
/// </summary>
public static class JsonValueWriter
{
    /// <summary>Writes row <paramref name="row"/> of <paramref name="vector"/> as one JSON value.</summary>
    public static void Write(Utf8JsonWriter writer, ColumnVector vector, int row)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(vector);
        if (ValueFormatter.IsNull(vector, row))
        {
            writer.WriteNullValue();
            return;
        }
        var type = vector.Type;
        switch (type.Id)
        {
            case DuckTypeId.Boolean:
                writer.WriteBooleanValue(vector.Fixed[row] != 0);
                break;
            case DuckTypeId.TinyInt or DuckTypeId.SmallInt or DuckTypeId.Integer or DuckTypeId.BigInt or DuckTypeId.UTinyInt
                or DuckTypeId.USmallInt or DuckTypeId.UInteger or DuckTypeId.UBigInt or DuckTypeId.HugeInt or DuckTypeId.UHugeInt
                or DuckTypeId.BigNum:
                // Integers in decimal are valid JSON numbers of any size.
                writer.WriteRawValue(ValueFormatter.Format(vector, row)!, skipInputValidation: true);
                break;
            case DuckTypeId.Decimal:
            {
                // DuckDB writes DECIMAL(3,3) as ".123"; JSON needs the leading "0".
                var sb = new StringBuilder(42);
                ValueFormatter.AppendDecimal(sb, ValueFormatter.ReadDecimal(vector, row), type.Width, type.Scale, leadingZero: true);
                writer.WriteRawValue(sb.ToString(), skipInputValidation: true);
                break;
            }
            case DuckTypeId.Float or DuckTypeId.Double:
            {
                var value = type.Id == DuckTypeId.Float
                    ? BinaryPrimitives.ReadSingleLittleEndian(vector.GetFixed(row))
                    : BinaryPrimitives.ReadDoubleLittleEndian(vector.GetFixed(row));
                var text = ValueFormatter.Format(vector, row)!;
                if (double.IsFinite(value))
                {
                    // DuckDB's float text ("1.0", "1e+20", "-0.0") is valid JSON and round-trips exactly.
                    writer.WriteRawValue(text, skipInputValidation: true);
                }
                else
                {
                    writer.WriteStringValue(text);
                }
                break;
            }
            case DuckTypeId.List:
            {
                var (start, count) = vector.GetListRange(row);
                writer.WriteStartArray();
                for (var i = 0; i < count; i++)
                {
                    Write(writer, vector.Children[0], start + i);
                }
                writer.WriteEndArray();
                break;
            }
            case DuckTypeId.Array:
            {
                var size = (int)type.ArraySize;
                writer.WriteStartArray();
                for (var i = 0; i < size; i++)
                {
                    Write(writer, vector.Children[0], (row * size) + i);
                }
                writer.WriteEndArray();
                break;
            }
            case DuckTypeId.Struct:
                writer.WriteStartObject();
                for (var f = 0; f < type.Fields.Length; f++)
                {
                    writer.WritePropertyName(type.Fields[f].Name);
                    Write(writer, vector.Children[f], row);
                }
                writer.WriteEndObject();
                break;
            case DuckTypeId.Map:
                WriteMap(writer, vector, row);
                break;
            case DuckTypeId.Union:
            {
                var tag = vector.Children[0].Fixed[row];
                Write(writer, vector.Children[tag + 1], row);
                break;
            }
            default:
                writer.WriteStringValue(ValueFormatter.Format(vector, row));
                break;
        }
    }

    /// <summary>Writes row <paramref name="row"/> of <paramref name="batch"/> as an object of column name to value.</summary>
    public static void WriteRow(Utf8JsonWriter writer, ResultBatch batch, int row)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(batch);
        writer.WriteStartObject();
        for (var c = 0; c < batch.Columns.Length; c++)
        {
            writer.WritePropertyName(batch.Schema.Names[c]);
            Write(writer, batch.Columns[c], row);
        }
        writer.WriteEndObject();
    }

    /// <summary>A MAP as an object; keys are their VARCHAR text. NULL entries (which DuckDB does not produce) are skipped.</summary>
    private static void WriteMap(Utf8JsonWriter writer, ColumnVector vector, int row)
    {
        var (start, count) = vector.GetListRange(row);
        var entries = vector.Children[0];
        writer.WriteStartObject();
        for (var i = 0; i < count; i++)
        {
            var entry = start + i;
            if (!entries.IsValid(entry))
            {
                continue;
            }
            writer.WritePropertyName(ValueFormatter.Format(entries.Children[0], entry) ?? "NULL");
            Write(writer, entries.Children[1], entry);
        }
        writer.WriteEndObject();
    }
}
