using System.Globalization;
using System.Text.Json.Nodes;
using Duckton.Core.Data;

namespace Duckton.Core.Tests.Hashing;

/// <summary>Random typed values as JSON (see <see cref="JsonColumns"/>), NULLs included.</summary>
internal static class RandomData
{
    /// <summary>The types the property tests draw columns from: scalars, temporals, exact numerics and every nested kind.</summary>
    public static readonly DuckType[] TypePool =
    [
        DuckType.Integer,
        DuckType.BigInt,
        DuckType.Double,
        DuckType.Varchar,
        DuckType.Boolean,
        DuckType.Of(DuckTypeId.SmallInt),
        DuckType.Of(DuckTypeId.Float),
        DuckType.Of(DuckTypeId.Date),
        DuckType.Of(DuckTypeId.Timestamp),
        DuckType.Of(DuckTypeId.Interval),
        DuckType.Of(DuckTypeId.Uuid),
        DuckType.Of(DuckTypeId.Blob),
        DuckType.Of(DuckTypeId.HugeInt),
        DuckType.Decimal(10, 2),
        DuckType.Decimal(30, 4),
        DuckType.Enum(["red", "green", "blue"]),
        DuckType.List(DuckType.Integer),
        DuckType.List(DuckType.Varchar),
        DuckType.Struct([new DuckField("a", DuckType.Integer), new DuckField("b", DuckType.Varchar)]),
        DuckType.Map(DuckType.Varchar, DuckType.Double),
        DuckType.Array(DuckType.Integer, 3),
        DuckType.Union([new DuckField("n", DuckType.BigInt), new DuckField("s", DuckType.Varchar)]),
    ];

    public static readonly ResultSchema WideSchema = new(
        [.. TypePool.Select((_, i) => $"c{i}")],
        TypePool);

    public static JsonNode?[] Row(Random rng, ResultSchema schema) => [.. schema.Types.Select(t => Value(rng, t))];

    /// <summary>A random value of <paramref name="type"/>, NULL one time in six. No NaN or -0 (they equal other values).</summary>
    public static JsonNode? Value(Random rng, DuckType type, bool allowNull = true)
    {
        if (allowNull && rng.Next(6) == 0)
        {
            return null;
        }
        return type.Id switch
        {
            DuckTypeId.Integer => rng.Next(-5, 5) == 0 ? int.MinValue : rng.Next(-1000, 1000),
            DuckTypeId.BigInt => rng.Next(2) == 0 ? rng.NextInt64() : rng.Next(-3, 3),
            DuckTypeId.SmallInt => (short)rng.Next(short.MinValue, short.MaxValue),
            DuckTypeId.HugeInt => ((Int128)rng.NextInt64() * rng.NextInt64()).ToString(CultureInfo.InvariantCulture),
            DuckTypeId.Double => Math.Round((rng.NextDouble() - 0.5) * 1e6, rng.Next(0, 6)) is var d && d != 0 ? d : 1.0,
            DuckTypeId.Float => (double)(float)Math.Round(rng.NextDouble() * 100, 2) is var f && f != 0 ? f : 2.0,
            DuckTypeId.Varchar => RandomText(rng),
            DuckTypeId.Blob => Convert.ToHexString(RandomBytes(rng, rng.Next(0, 9))),
            DuckTypeId.Boolean => rng.Next(2) == 0,
            DuckTypeId.Date => rng.Next(-100_000, 100_000),
            DuckTypeId.Timestamp => rng.NextInt64(-1L << 50, 1L << 50),
            DuckTypeId.Interval => new JsonArray(rng.Next(-20, 20), rng.Next(-40, 40), rng.NextInt64(-1L << 40, 1L << 40)),
            DuckTypeId.Uuid => new Guid(RandomBytes(rng, 16)).ToString(),
            DuckTypeId.Decimal => RandomDecimal(rng, type),
            DuckTypeId.Enum => type.EnumValues[rng.Next(type.EnumValues.Length)],
            DuckTypeId.List => new JsonArray([.. Enumerable.Range(0, rng.Next(0, 4)).Select(_ => Value(rng, type.Element!))]),
            DuckTypeId.Array => new JsonArray([.. Enumerable.Range(0, (int)type.ArraySize).Select(_ => Value(rng, type.Element!))]),
            DuckTypeId.Struct => new JsonObject(type.Fields.Select(f => KeyValuePair.Create(f.Name, Value(rng, f.Type)))),
            DuckTypeId.Map => new JsonArray([.. Enumerable.Range(0, rng.Next(0, 3)).Select(i => (JsonNode)new JsonArray(
                $"k{i}{RandomText(rng)}", Value(rng, type.Fields[1].Type)))]),
            DuckTypeId.Union => type.Fields[rng.Next(type.Fields.Length)] is var m ? new JsonObject { [m.Name] = Value(rng, m.Type) } : null,
            _ => throw new NotSupportedException(type.ToString()),
        };
    }

    private static string RandomDecimal(Random rng, DuckType type)
    {
        var digits = type.Width - type.Scale;
        var whole = rng.NextInt64(0, (long)Math.Pow(10, Math.Min(digits, 15)));
        var fraction = rng.NextInt64(0, (long)Math.Pow(10, type.Scale)).ToString(CultureInfo.InvariantCulture).PadLeft(type.Scale, '0');
        // No "-0.00": it is the same value as "0.00".
        var negative = rng.Next(2) == 0 && (whole != 0 || fraction.Trim('0').Length > 0);
        return $"{(negative ? "-" : "")}{whole}.{fraction}";
    }

    private static string RandomText(Random rng)
    {
        const string Alphabet = "ab c\u00e9\u4e2d\U0001F600";
        var n = rng.Next(0, 6);
        var chars = new List<string>();
        var elements = System.Globalization.StringInfo.GetTextElementEnumerator(Alphabet);
        var pool = new List<string>();
        while (elements.MoveNext())
        {
            pool.Add((string)elements.Current);
        }
        for (var i = 0; i < n; i++)
        {
            chars.Add(pool[rng.Next(pool.Count)]);
        }
        return string.Concat(chars);
    }

    private static byte[] RandomBytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }
}
