using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json.Nodes;
using Duckton.Core.Data;

namespace Duckton.Core.Tests.Hashing;

/// <summary>
/// Builds <see cref="ColumnVector"/>s in DuckDB's physical layout from JSON values, with the conventions
/// of TestData/canonical-hash-vectors.json (see its "_conventions"):
/// null is NULL; integers are numbers or decimal strings; FLOAT/DOUBLE numbers or "NaN", "-NaN",
/// "Infinity", "-Infinity", "-0.0", or "0x…" raw IEEE bits; DECIMAL a string with exactly `scale`
/// fraction digits; DATE days, TIME/TIMESTAMP* integers in the type's unit; TIMETZ DuckDB's packed bits;
/// INTERVAL [months, days, micros]; UUID its text; VARCHAR a string; BLOB/BIT/BIGNUM hex of the stored bytes;
/// ENUM the label; LIST/ARRAY arrays; STRUCT objects; MAP arrays of [key, value]; UNION {"member": value}.
/// </summary>
internal static class JsonColumns
{
    /// <summary>Types: a DuckDB type name, or {"decimal":[w,s]}, {"enum":[...]}, {"list":T}, {"array":[T,n]},
    /// {"struct":[[name,T],...]}, {"union":[[name,T],...]}, {"map":[K,V]}.</summary>
    public static DuckType ParseType(JsonNode node)
    {
        if (node is JsonValue)
        {
            var name = node.GetValue<string>();
            foreach (var id in Enum.GetValues<DuckTypeId>())
            {
                if (id is not (DuckTypeId.Decimal or DuckTypeId.Enum or DuckTypeId.List or DuckTypeId.Struct or DuckTypeId.Map
                    or DuckTypeId.Array or DuckTypeId.Union or DuckTypeId.Invalid or DuckTypeId.Any)
                    && string.Equals(DuckType.SqlName(id), name, StringComparison.Ordinal))
                {
                    return DuckType.Of(id);
                }
            }
            throw new FormatException($"unknown type {name}");
        }
        var obj = node.AsObject();
        var (kind, arg) = obj.Single();
        return kind switch
        {
            "decimal" => DuckType.Decimal((byte)arg![0]!.GetValue<int>(), (byte)arg[1]!.GetValue<int>()),
            "enum" => DuckType.Enum(arg!.AsArray().Select(v => v!.GetValue<string>())),
            "list" => DuckType.List(ParseType(arg!)),
            "array" => DuckType.Array(ParseType(arg![0]!), (uint)arg[1]!.GetValue<int>()),
            "map" => DuckType.Map(ParseType(arg![0]!), ParseType(arg[1]!)),
            "struct" => DuckType.Struct(arg!.AsArray().Select(f => new DuckField(f![0]!.GetValue<string>(), ParseType(f[1]!)))),
            "union" => DuckType.Union(arg!.AsArray().Select(f => new DuckField(f![0]!.GetValue<string>(), ParseType(f[1]!)))),
            _ => throw new FormatException($"unknown type constructor {kind}"),
        };
    }

    public static ResultSchema ParseSchema(JsonArray columns) => new(
        [.. columns.Select(c => c!["name"]!.GetValue<string>())],
        [.. columns.Select(c => ParseType(c!["type"]!))]);

    /// <summary>A batch from rows given as arrays of cell values.</summary>
    public static ResultBatch Batch(ResultSchema schema, IReadOnlyList<JsonNode?[]> rows)
    {
        var columns = new ColumnVector[schema.Count];
        for (var c = 0; c < schema.Count; c++)
        {
            columns[c] = Build(schema.Types[c], [.. rows.Select(r => r[c])]);
        }
        return new ResultBatch(schema, columns, rows.Count);
    }

    public static ColumnVector Build(DuckType type, IReadOnlyList<JsonNode?> values)
    {
        var n = values.Count;
        ulong[]? validity = null;
        if (values.Any(v => v is null) || type.Id == DuckTypeId.SqlNull)
        {
            validity = new ulong[ColumnVector.ValidityWords(n)];
            for (var i = 0; i < n; i++)
            {
                if (values[i] is not null && type.Id != DuckTypeId.SqlNull)
                {
                    validity[i >> 6] |= 1UL << (i & 63);
                }
            }
        }

        switch (type.Id)
        {
            case DuckTypeId.SqlNull:
                return new ColumnVector(type, n, validity: validity);
            case DuckTypeId.Varchar or DuckTypeId.Blob or DuckTypeId.Bit or DuckTypeId.BigNum:
            {
                var offsets = new int[n + 1];
                var bytes = new List<byte>();
                for (var i = 0; i < n; i++)
                {
                    if (values[i] is { } v)
                    {
                        bytes.AddRange(type.Id == DuckTypeId.Varchar ? Encoding.UTF8.GetBytes(v.GetValue<string>()) : Convert.FromHexString(v.GetValue<string>()));
                    }
                    offsets[i + 1] = bytes.Count;
                }
                return new ColumnVector(type, n, validity: validity, offsets: offsets, bytes: [.. bytes]);
            }
            case DuckTypeId.List or DuckTypeId.Map:
            {
                var offsets = new int[n + 1];
                var children = new List<JsonNode?>();
                for (var i = 0; i < n; i++)
                {
                    if (values[i] is { } v)
                    {
                        foreach (var e in v.AsArray())
                        {
                            children.Add(type.Id == DuckTypeId.List ? e?.DeepClone() : new JsonObject { ["key"] = e![0]?.DeepClone(), ["value"] = e[1]?.DeepClone() });
                        }
                    }
                    offsets[i + 1] = children.Count;
                }
                var childType = type.Id == DuckTypeId.List ? type.Element! : DuckType.Struct(type.Fields);
                return new ColumnVector(type, n, validity: validity, offsets: offsets, children: [Build(childType, children)]);
            }
            case DuckTypeId.Array:
            {
                var size = (int)type.ArraySize;
                var children = new List<JsonNode?>();
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < size; j++)
                    {
                        children.Add(values[i] is { } v ? v[j]?.DeepClone() : null);
                    }
                }
                return new ColumnVector(type, n, validity: validity, children: [Build(type.Element!, children)]);
            }
            case DuckTypeId.Struct:
            {
                var children = type.Fields.Select(f => Build(f.Type, [.. values.Select(v => v?[f.Name]?.DeepClone())])).ToArray();
                return new ColumnVector(type, n, validity: validity, children: children);
            }
            case DuckTypeId.Union:
            {
                var tags = new byte[n];
                var memberValues = type.Fields.Select(_ => new JsonNode?[n]).ToArray();
                for (var i = 0; i < n; i++)
                {
                    if (values[i] is { } v)
                    {
                        var (member, value) = v.AsObject().Single();
                        var index = type.Fields.Select(f => f.Name).ToList().IndexOf(member);
                        tags[i] = (byte)index;
                        memberValues[index][i] = value?.DeepClone();
                    }
                }
                var children = new List<ColumnVector> { new(DuckType.Of(DuckTypeId.UTinyInt), n, fixedData: tags) };
                children.AddRange(type.Fields.Select((f, m) => Build(f.Type, memberValues[m])));
                return new ColumnVector(type, n, validity: validity, children: [.. children]);
            }
            default:
            {
                var w = type.FixedWidth;
                var data = new byte[n * w];
                for (var i = 0; i < n; i++)
                {
                    if (values[i] is { } v)
                    {
                        WriteFixed(type, v, data.AsSpan(i * w, w));
                    }
                }
                return new ColumnVector(type, n, fixedData: data, validity: validity);
            }
        }
    }

    private static void WriteFixed(DuckType type, JsonNode v, Span<byte> dst)
    {
        switch (type.Id)
        {
            case DuckTypeId.Boolean:
                dst[0] = v.GetValue<bool>() ? (byte)1 : (byte)0;
                break;
            case DuckTypeId.Float:
                BinaryPrimitives.WriteUInt32LittleEndian(dst, FloatBits(v));
                break;
            case DuckTypeId.Double:
                BinaryPrimitives.WriteUInt64LittleEndian(dst, DoubleBits(v));
                break;
            case DuckTypeId.Decimal:
                WriteInteger(Unscaled(v.GetValue<string>(), type.Scale), dst);
                break;
            case DuckTypeId.Interval:
                BinaryPrimitives.WriteInt32LittleEndian(dst, v[0]!.GetValue<int>());
                BinaryPrimitives.WriteInt32LittleEndian(dst[4..], v[1]!.GetValue<int>());
                BinaryPrimitives.WriteInt64LittleEndian(dst[8..], v[2]!.GetValue<long>());
                break;
            case DuckTypeId.Uuid:
            {
                var be = Convert.FromHexString(v.GetValue<string>().Replace("-", "", StringComparison.Ordinal));
                var upper = BinaryPrimitives.ReadUInt64BigEndian(be) ^ 0x8000000000000000UL;
                BinaryPrimitives.WriteUInt64LittleEndian(dst, BinaryPrimitives.ReadUInt64BigEndian(be.AsSpan(8)));
                BinaryPrimitives.WriteUInt64LittleEndian(dst[8..], upper);
                break;
            }
            case DuckTypeId.Enum:
            {
                var index = type.EnumValues.IndexOf(v.GetValue<string>());
                if (index < 0)
                {
                    throw new FormatException($"{v} is not a label of {type}");
                }
                WriteInteger(index, dst);
                break;
            }
            default:
                WriteInteger(Integer(v), dst);
                break;
        }
    }

    private static BigInteger Integer(JsonNode v) => BigInteger.Parse(v.ToJsonString().Trim('"'), CultureInfo.InvariantCulture);

    /// <summary>Two's complement, little-endian, truncated to the slot (so unsigned values above the signed range also fit).</summary>
    private static void WriteInteger(BigInteger value, Span<byte> dst)
    {
        var bytes = value.ToByteArray(); // little-endian two's complement, minimal length
        var fill = value.Sign < 0 ? (byte)0xFF : (byte)0;
        for (var i = 0; i < dst.Length; i++)
        {
            dst[i] = i < bytes.Length ? bytes[i] : fill;
        }
    }

    private static BigInteger Unscaled(string text, int scale)
    {
        var negative = text.StartsWith('-');
        var parts = text.TrimStart('-').Split('.');
        var fraction = parts.Length > 1 ? parts[1] : "";
        if (fraction.Length != scale)
        {
            throw new FormatException($"decimal {text} must have exactly {scale} fraction digits");
        }
        var unscaled = BigInteger.Parse(parts[0] + fraction, CultureInfo.InvariantCulture);
        return negative ? -unscaled : unscaled;
    }

    private static ulong DoubleBits(JsonNode v)
    {
        if (v.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            return BitConverter.DoubleToUInt64Bits(v.GetValue<double>());
        }
        var s = v.GetValue<string>();
        return s switch
        {
            "NaN" => 0x7FF8000000000000UL,
            "-NaN" => 0xFFF8000000000000UL,
            "Infinity" => BitConverter.DoubleToUInt64Bits(double.PositiveInfinity),
            "-Infinity" => BitConverter.DoubleToUInt64Bits(double.NegativeInfinity),
            "-0.0" => 0x8000000000000000UL,
            _ when s.StartsWith("0x", StringComparison.Ordinal) => ulong.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            _ => BitConverter.DoubleToUInt64Bits(double.Parse(s, CultureInfo.InvariantCulture)),
        };
    }

    private static uint FloatBits(JsonNode v)
    {
        if (v.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            return BitConverter.SingleToUInt32Bits((float)v.GetValue<double>());
        }
        var s = v.GetValue<string>();
        return s switch
        {
            "NaN" => 0x7FC00000u,
            "-NaN" => 0xFFC00000u,
            "Infinity" => BitConverter.SingleToUInt32Bits(float.PositiveInfinity),
            "-Infinity" => BitConverter.SingleToUInt32Bits(float.NegativeInfinity),
            "-0.0" => 0x80000000u,
            _ when s.StartsWith("0x", StringComparison.Ordinal) => uint.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            _ => BitConverter.SingleToUInt32Bits(float.Parse(s, CultureInfo.InvariantCulture)),
        };
    }
}
