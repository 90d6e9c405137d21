using Duckton.Core.Data;

namespace Duckton.Core.Tests.Data;

/// <summary>Hand-built single-column batches covering every type id with its edge values and NULLs.</summary>
internal static class SampleBatches
{
    public static ResultBatch Single(string name, ColumnVector column) =>
        new(new ResultSchema([name], [column.Type]), [column], column.Length);

    public static ResultBatch Of(params (string Name, ColumnVector Column)[] columns) =>
        new(new ResultSchema(columns.Select(c => c.Name).ToArray(), columns.Select(c => c.Column.Type).ToArray()),
            columns.Select(c => c.Column).ToArray(), columns.Length == 0 ? 0 : columns[0].Column.Length);

    public static ColumnVector Ints(params int?[] values) => ColumnVectors.Fixed<int>(DuckType.Integer, values);

    private static DuckType T(DuckTypeId id) => DuckType.Of(id);

    /// <summary>Name and batch of every sample, one per type (or per interesting shape).</summary>
    public static IEnumerable<(string Name, ResultBatch Batch)> All()
    {
        yield return ("boolean", Single("b", ColumnVectors.Fixed<byte>(DuckType.Boolean, [(byte)1, (byte)0, null])));
        yield return ("tinyint", Single("v", ColumnVectors.Fixed<sbyte>(T(DuckTypeId.TinyInt), [sbyte.MinValue, sbyte.MaxValue, (sbyte)0, null])));
        yield return ("smallint", Single("v", ColumnVectors.Fixed<short>(T(DuckTypeId.SmallInt), [short.MinValue, short.MaxValue, null])));
        yield return ("integer", Single("v", Ints(int.MinValue, int.MaxValue, 0, null, -1)));
        yield return ("bigint", Single("v", ColumnVectors.Fixed<long>(DuckType.BigInt, [long.MinValue, long.MaxValue, null])));
        yield return ("utinyint", Single("v", ColumnVectors.Fixed<byte>(T(DuckTypeId.UTinyInt), [(byte)0, byte.MaxValue, null])));
        yield return ("usmallint", Single("v", ColumnVectors.Fixed<ushort>(T(DuckTypeId.USmallInt), [(ushort)0, ushort.MaxValue, null])));
        yield return ("uinteger", Single("v", ColumnVectors.Fixed<uint>(T(DuckTypeId.UInteger), [0u, uint.MaxValue, null])));
        yield return ("ubigint", Single("v", ColumnVectors.Fixed<ulong>(T(DuckTypeId.UBigInt), [0ul, ulong.MaxValue, null])));
        yield return ("hugeint", Single("v", ColumnVectors.Fixed<Int128>(T(DuckTypeId.HugeInt), [Int128.MinValue, Int128.MaxValue, Int128.Zero, null, Int128.NegativeOne])));
        yield return ("uhugeint", Single("v", ColumnVectors.Fixed<UInt128>(T(DuckTypeId.UHugeInt), [UInt128.MinValue, UInt128.MaxValue, null])));
        yield return ("float", Single("v", ColumnVectors.Fixed<float>(T(DuckTypeId.Float),
            [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0.0f, float.Epsilon, float.MaxValue, null])));
        yield return ("double", Single("v", ColumnVectors.Fixed<double>(DuckType.Double,
            [double.NaN, BitConverter.UInt64BitsToDouble(0x7FF8_0000_0000_0001), double.PositiveInfinity, double.NegativeInfinity, -0.0, 0.0,
             double.Epsilon, double.MaxValue, 0.1, null])));
        yield return ("decimal(4,1)", Single("v", ColumnVectors.Fixed<short>(DuckType.Decimal(4, 1), [(short)9999, (short)-9999, null])));
        yield return ("decimal(9,4)", Single("v", ColumnVectors.Fixed<int>(DuckType.Decimal(9, 4), [999_999_999, -999_999_999, null])));
        yield return ("decimal(18,3)", Single("v", ColumnVectors.Fixed<long>(DuckType.Decimal(18, 3), [999_999_999_999_999_999, -1, null])));
        var max38 = Int128.Parse("99999999999999999999999999999999999999", System.Globalization.CultureInfo.InvariantCulture);
        yield return ("decimal(38,10)", Single("v", ColumnVectors.Fixed<Int128>(DuckType.Decimal(38, 10), [max38, -max38, Int128.Zero, null])));
        yield return ("date", Single("v", ColumnVectors.Fixed<int>(T(DuckTypeId.Date), [int.MaxValue, -int.MaxValue, 0, -719163, null])));
        yield return ("time", Single("v", ColumnVectors.Fixed<long>(T(DuckTypeId.Time), [0L, 86_400_000_000L, 45_296_123_456L, null])));
        yield return ("time_ns", Single("v", ColumnVectors.Fixed<long>(T(DuckTypeId.TimeNs), [0L, 45_296_123_456_789L, null])));
        yield return ("timetz", Single("v", ColumnVectors.Fixed<ulong>(T(DuckTypeId.TimeTz), [(45_296_000_000UL << 24) | 50399, 0UL, null])));
        foreach (var id in new[] { DuckTypeId.Timestamp, DuckTypeId.TimestampS, DuckTypeId.TimestampMs, DuckTypeId.TimestampNs, DuckTypeId.TimestampTz })
        {
            yield return (id.ToString().ToLowerInvariant(), Single("v", ColumnVectors.Fixed<long>(T(id), [long.MaxValue, -long.MaxValue, 0L, -1L, null])));
        }
        var interval = new byte[32];
        BitConverter.TryWriteBytes(interval.AsSpan(0), 14);
        BitConverter.TryWriteBytes(interval.AsSpan(4), 3);
        BitConverter.TryWriteBytes(interval.AsSpan(8), long.MinValue);
        yield return ("interval", Single("v", new ColumnVector(T(DuckTypeId.Interval), 2, interval, ColumnVectors.Validity([false, true]))));
        var uuids = new byte[48];
        new Random(1).NextBytes(uuids);
        yield return ("uuid", Single("v", new ColumnVector(T(DuckTypeId.Uuid), 3, uuids, ColumnVectors.Validity([false, false, true]))));
        yield return ("varchar", Single("s", ColumnVectors.Varchar("", "hello", null, "Grüße 🦆", new string('x', 100_000), "")));
        yield return ("blob", Single("b", ColumnVectors.ByteStrings(DuckType.Of(DuckTypeId.Blob), [[], [0xFF, 0xFE, 0x00, 0xC3], null, "abc"u8.ToArray()])));
        yield return ("bit", Single("b", ColumnVectors.ByteStrings(DuckType.Of(DuckTypeId.Bit), [[5, 0b101, 0b10011101], null, [0, 0xFF]])));
        yield return ("bignum", Single("b", ColumnVectors.ByteStrings(DuckType.Of(DuckTypeId.BigNum), [[0x80, 0x00, 0x01, 0x05], [0x7F, 0xFF, 0xFE, 0xFA], null])));
        yield return ("enum300", Single("e", ColumnVectors.Fixed<ushort>(DuckType.Enum(Enumerable.Range(0, 300).Select(i => $"v{i}")),
            [(ushort)0, (ushort)299, null])));
        yield return ("enum3", Single("e", ColumnVectors.Fixed<byte>(DuckType.Enum(["a", "b", "c"]), [(byte)2, null, (byte)0])));
        yield return ("enum70000", Single("e", ColumnVectors.Fixed<uint>(DuckType.Enum(Enumerable.Range(0, 70_000).Select(i => $"{i}")),
            [69_999u, null, 0u])));
        yield return ("sqlnull", Single("n", ColumnVectors.Nulls(T(DuckTypeId.SqlNull), 5)));

        // [1, 2, NULL], [], NULL, [NULL]: a NULL list, an empty list and a list of NULLs are three different values.
        yield return ("list", Single("l", ColumnVectors.List(DuckType.List(DuckType.Integer), [3, 0, null, 1], Ints(1, 2, null, null))));
        // A struct of NULLs and a NULL struct.
        var structType = DuckType.Struct([new DuckField("a", DuckType.Integer), new DuckField("b", DuckType.Varchar)]);
        yield return ("struct", Single("s", ColumnVectors.Struct(structType, 3, [Ints(1, null, 3), ColumnVectors.Varchar("x", null, "z")],
            ColumnVectors.Validity([false, false, true]))));
        var mapType = DuckType.Map(DuckType.Varchar, DuckType.List(DuckType.Integer));
        yield return ("map", Single("m", ColumnVectors.Map(mapType, [2, 0, null, 1], ColumnVectors.Varchar("k1", "k2", "k3"),
            ColumnVectors.List(DuckType.List(DuckType.Integer), [2, null, 0], Ints(7, 8)))));
        // INTEGER[][2]: an array of lists.
        var lists = ColumnVectors.List(DuckType.List(DuckType.Integer), [1, 2, 0, null, 3, 0], Ints(1, 2, 3, 4, 5, 6));
        yield return ("array of lists", Single("a", ColumnVectors.Array(DuckType.Array(lists.Type, 2), 3, lists, ColumnVectors.Validity([false, false, true]))));
        var unionType = DuckType.Union([new DuckField("i", DuckType.Integer), new DuckField("s", DuckType.Varchar), new DuckField("l", DuckType.List(DuckType.Double))]);
        yield return ("union", Single("u", ColumnVectors.Union(unionType, [0, 1, 2, null, 1],
        [
            Ints(42, null, null, null, null),
            ColumnVectors.Varchar(null, "text", null, null, null),
            ColumnVectors.List(DuckType.List(DuckType.Double), [null, null, 2, null, null], ColumnVectors.Fixed<double>(DuckType.Double, [1.5, -0.0])),
        ])));
        yield return ("several columns", Of(("i", Ints(1, 2, 3)), ("s", ColumnVectors.Varchar("a", null, "c")),
            ("d", ColumnVectors.Fixed<double>(DuckType.Double, [1.0, null, 3.0]))));
        yield return ("no rows", Of(("i", Ints()), ("l", ColumnVectors.List(DuckType.List(DuckType.Varchar), [], ColumnVectors.Varchar()))));
        yield return ("no columns", new ResultBatch(new ResultSchema([], []), [], 7));
        yield return ("130 rows", Single("v", Ints(Enumerable.Range(0, 130).Select(i => i % 3 == 0 ? (int?)null : i).ToArray())));
    }
}
