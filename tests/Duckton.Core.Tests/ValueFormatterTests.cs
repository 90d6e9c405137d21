using System.Text;
using System.Text.Json;
using Duckton.Core.Data;

namespace Duckton.Core.Tests;

/// <summary>
/// Hand-written cases for <see cref="ValueFormatter"/> and <see cref="JsonValueWriter"/>. Every expected string of
/// a nested value was printed by DuckDB v1.5.6 for the SQL in the comment next to it.
/// </summary>
public class ValueFormatterTests
{
    private static readonly DuckType s_int = DuckType.Integer;
    private static readonly DuckType s_varchar = DuckType.Varchar;

    private static ColumnVector Ints(params int?[] values) => ColumnVectors.Fixed<int>(s_int, values);

    /// <summary>Every row's text, NULL shown as &lt;null&gt;, so a failure shows all rows at once.</summary>
    private static void AssertRows(ColumnVector v, params string?[] expected) =>
        Assert.Equal(string.Join(" | ", expected.Select(e => e ?? "<null>")),
            string.Join(" | ", Enumerable.Range(0, v.Length).Select(i => ValueFormatter.Format(v, i) ?? "<null>")));

    [Fact]
    public void Scalars_render_like_DuckDB()
    {
        Assert.Equal("3.14", ValueFormatter.FormatDouble(3.14));
        Assert.Equal("1e+20", ValueFormatter.FormatDouble(1e20));
        Assert.Equal("1000000000000000.0", ValueFormatter.FormatDouble(1e15));
        Assert.Equal("1e+16", ValueFormatter.FormatDouble(1e16));
        Assert.Equal("1e-05", ValueFormatter.FormatDouble(1e-5));
        Assert.Equal("0.0001", ValueFormatter.FormatDouble(1e-4));
        Assert.Equal("inf", ValueFormatter.FormatDouble(double.PositiveInfinity));
        Assert.Equal("-inf", ValueFormatter.FormatDouble(double.NegativeInfinity));
        Assert.Equal("nan", ValueFormatter.FormatDouble(BitConverter.UInt64BitsToDouble(0x7FF8_0000_0000_0000)));
        Assert.Equal("-nan", ValueFormatter.FormatDouble(BitConverter.UInt64BitsToDouble(0xFFF8_0000_0000_0000)));
        Assert.Equal("-0.0", ValueFormatter.FormatDouble(-0.0));
        Assert.Equal("0.1", ValueFormatter.FormatFloat(0.1f));
        Assert.Equal("2175463.75", ValueFormatter.FormatFloat(2175463.75f)); // fmt's Grisu gives up, falls back to double
        Assert.Equal("123.450", ValueFormatter.FormatDecimal(123450, 6, 3));
        Assert.Equal(".123", ValueFormatter.FormatDecimal(123, 3, 3));
        Assert.Equal("-0.5", ValueFormatter.FormatDecimal(-5, 4, 1));
        Assert.Equal("-12345678901234567890.1234567890", ValueFormatter.FormatDecimal(Int128.Parse("-123456789012345678901234567890"), 38, 10));
        Assert.Equal("2024-01-05", ValueFormatter.FormatDate(19727));
        Assert.Equal("0001-12-31 (BC)", ValueFormatter.FormatDate(-719163));
        Assert.Equal("infinity", ValueFormatter.FormatDate(int.MaxValue));
        Assert.Equal("-infinity", ValueFormatter.FormatDate(-int.MaxValue));
        Assert.Equal("12:34:56.5", ValueFormatter.FormatTime(45296500000));
        Assert.Equal("24:00:00", ValueFormatter.FormatTime(86400000000));
        Assert.Equal("12:34:56.000000001", ValueFormatter.FormatTimeNs(45296000000001));
        Assert.Equal("2024-01-05 12:34:56.123456789", ValueFormatter.FormatTimestamp(1704458096123456789, ValueFormatter.TimestampUnit.Nanos));
        Assert.Equal("1969-12-31 23:59:59.999999", ValueFormatter.FormatTimestamp(-1));
        Assert.Equal("1 year 2 months 3 days 04:05:06.789", ValueFormatter.FormatInterval(14, 3, 14706789000));
        Assert.Equal("00:00:00", ValueFormatter.FormatInterval(0, 0, 0));
        Assert.Equal("-2562047788:00:54.775807", ValueFormatter.FormatInterval(0, 0, -long.MaxValue));
        Assert.Equal("-2562047788:00:54.775808", ValueFormatter.FormatInterval(0, 0, long.MinValue));
        Assert.Equal("a\\x27b\\x22c\\x5C\\x00", ValueFormatter.FormatBlob("a'b\"c\\\0"u8));
        Assert.Equal("10110011101", ValueFormatter.FormatBit([5, 0b101, 0b10011101]));
    }

    [Fact]
    public void Time_zone_offsets_keep_DuckDBs_minute_and_second_rule()
    {
        static ulong TimeTz(long micros, int offsetSeconds) => ((ulong)micros << 24) | (uint)(57599 - offsetSeconds);
        Assert.Equal("12:34:56+02", ValueFormatter.FormatTimeTz(TimeTz(45296000000, 7200)));
        Assert.Equal("12:34:56-05:30", ValueFormatter.FormatTimeTz(TimeTz(45296000000, -19800)));
        // '12:34:56+02:00:30'::TIMETZ::VARCHAR prints the seconds where the minutes would go.
        Assert.Equal("12:34:56+02:30", ValueFormatter.FormatTimeTz(TimeTz(45296000000, 7230)));
        Assert.Equal("00:00:00+15:59:59", ValueFormatter.FormatTimeTz(TimeTz(0, 57599)));
    }

    [Fact]
    public void Uuid_flips_the_top_bit_back()
    {
        var storage = new byte[16];
        storage[0] = 1;
        storage[15] = 0x80; // '00000000-0000-0000-0000-000000000001' is stored with the sign bit set
        Assert.Equal("00000000-0000-0000-0000-000000000001", ValueFormatter.FormatUuid(storage));
        Assert.Equal("ffffffff-ffff-ffff-ffff-ffffffffffff", ValueFormatter.FormatUuid(
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    }

    [Fact]
    public void Null_is_the_callers_choice()
    {
        var v = Ints(1, null);
        Assert.Equal("1", ValueFormatter.Format(v, 0));
        Assert.Null(ValueFormatter.Format(v, 1));
        var sb = new StringBuilder();
        Assert.False(ValueFormatter.TryAppend(sb, v, 1));
        Assert.Equal(0, sb.Length);
    }

    [Fact]
    public void Lists_quote_strings_that_need_it()
    {
        // SELECT ['a', 'b c', '', ' x', 'x ', 'NULL', 'null', 'a,b', 'it''s', 'back\slash', NULL]::VARCHAR
        var child = ColumnVectors.Varchar("a", "b c", "", " x", "x ", "NULL", "null", "a,b", "it's", "back\\slash", null);
        var list = ColumnVectors.List(DuckType.List(s_varchar), [11], child);
        Assert.Equal("[a, b c, '', ' x', 'x ', 'NULL', 'null', 'a,b', 'it\\'s', back\\slash, NULL]", ValueFormatter.Format(list, 0));

        // SELECT [' ', 'a ', E'\tb', 'Null', 'nulls', 'a\b', E'\n']::VARCHAR
        var spaces = ColumnVectors.List(DuckType.List(s_varchar), [7], ColumnVectors.Varchar(" ", "a ", "\tb", "Null", "nulls", "a\\b", "\n"));
        Assert.Equal("[' ', 'a ', '\tb', 'Null', nulls, a\\b, '\n']", ValueFormatter.Format(spaces, 0));
    }

    [Fact]
    public void Empty_lists_null_lists_and_lists_of_nulls_differ()
    {
        // [1, 2, NULL], [], NULL, [NULL]
        var list = ColumnVectors.List(DuckType.List(s_int), [3, 0, null, 1], Ints(1, 2, null, null));
        AssertRows(list, "[1, 2, NULL]", "[]", null, "[NULL]");
    }

    [Fact]
    public void Nested_lists_are_not_requoted()
    {
        // SELECT [['a', 'b,c'], NULL, []]::VARCHAR
        var inner = ColumnVectors.List(DuckType.List(s_varchar), [2, null, 0], ColumnVectors.Varchar("a", "b,c"));
        var outer = ColumnVectors.List(DuckType.List(inner.Type), [3], inner);
        Assert.Equal("[[a, 'b,c'], NULL, []]", ValueFormatter.Format(outer, 0));
    }

    [Fact]
    public void Temporal_values_in_lists_are_quoted_for_their_colons()
    {
        // SELECT [TIME '12:34:56', NULL]::VARCHAR, [DATE '2024-01-01']::VARCHAR
        var times = ColumnVectors.List(DuckType.List(DuckType.Of(DuckTypeId.Time)), [2],
            ColumnVectors.Fixed<long>(DuckType.Of(DuckTypeId.Time), [45296000000L, null]));
        Assert.Equal("['12:34:56', NULL]", ValueFormatter.Format(times, 0));
        var dates = ColumnVectors.List(DuckType.List(DuckType.Of(DuckTypeId.Date)), [1], ColumnVectors.Fixed<int>(DuckType.Of(DuckTypeId.Date), [19723]));
        Assert.Equal("[2024-01-01]", ValueFormatter.Format(dates, 0));
    }

    [Fact]
    public void Structs_quote_names_always_and_values_when_needed()
    {
        // SELECT {'a': 1, 'b': 'hello'}::VARCHAR
        var type = DuckType.Struct([new DuckField("a", s_int), new DuckField("b", s_varchar)]);
        var s = ColumnVectors.Struct(type, 3, [Ints(1, null, 3), ColumnVectors.Varchar("hello", null, "x,y")], ColumnVectors.Validity([false, false, true]));
        AssertRows(s, "{'a': 1, 'b': hello}", "{'a': NULL, 'b': NULL}", null);

        // SELECT struct_pack("a'b" := 1, "c d" := 'x')::VARCHAR
        var odd = DuckType.Struct([new DuckField("a'b", s_int), new DuckField("c d", s_varchar)]);
        Assert.Equal("{'a\\'b': 1, 'c d': x}", ValueFormatter.Format(ColumnVectors.Struct(odd, 1, [Ints(1), ColumnVectors.Varchar("x")]), 0));
    }

    [Fact]
    public void Maps_render_key_equals_value()
    {
        // SELECT MAP {'k': 'v', 'k2': NULL}::VARCHAR, MAP {'a=b': 'c:d'}::VARCHAR
        var type = DuckType.Map(s_varchar, s_varchar);
        var map = ColumnVectors.Map(type, [2, 1, 0, null], ColumnVectors.Varchar("k", "k2", "a=b"), ColumnVectors.Varchar("v", null, "c:d"));
        AssertRows(map, "{k=v, k2=NULL}", "{'a=b'='c:d'}", "{}", null);

        // SELECT MAP {1: [1,2], 2: []}::VARCHAR
        var listType = DuckType.List(s_int);
        var values = ColumnVectors.List(listType, [2, 0], Ints(1, 2));
        var intMap = ColumnVectors.Map(DuckType.Map(s_int, listType), [2], Ints(1, 2), values);
        Assert.Equal("{1=[1, 2], 2=[]}", ValueFormatter.Format(intMap, 0));
    }

    [Fact]
    public void Arrays_never_quote_their_elements()
    {
        // SELECT ['a,b', 'c']::VARCHAR[2]::VARCHAR, [[1],[2,3]]::INT[][2]::VARCHAR
        var strings = ColumnVectors.Array(DuckType.Array(s_varchar, 2), 1, ColumnVectors.Varchar("a,b", "c"));
        Assert.Equal("[a,b, c]", ValueFormatter.Format(strings, 0));
        var lists = ColumnVectors.List(DuckType.List(s_int), [1, 2], Ints(1, 2, 3));
        var arrayOfLists = ColumnVectors.Array(DuckType.Array(lists.Type, 2), 1, lists);
        Assert.Equal("[[1], [2, 3]]", ValueFormatter.Format(arrayOfLists, 0));
    }

    [Fact]
    public void Unions_render_their_active_member()
    {
        // SELECT union_value(num := 2)::UNION(num INT, str VARCHAR)::VARCHAR; [union_value(str := 'a,b')]::VARCHAR
        var type = DuckType.Union([new DuckField("num", s_int), new DuckField("str", s_varchar)]);
        var union = ColumnVectors.Union(type, [0, 1, null, 1], [Ints(2, null, null, null), ColumnVectors.Varchar(null, "a,b", null, null)]);
        AssertRows(union, "2", "a,b", null, "NULL");
        var list = ColumnVectors.List(DuckType.List(type), [2, 1], union);
        Assert.Equal("[2, a,b]", ValueFormatter.Format(list, 0));
    }

    [Fact]
    public void Nested_values_inside_structs_and_maps_are_not_quoted()
    {
        // SELECT {'u': union_value(s := 'a,b')::UNION(i INT, s VARCHAR)}::VARCHAR
        var unionType = DuckType.Union([new DuckField("i", s_int), new DuckField("s", s_varchar)]);
        var union = ColumnVectors.Union(unionType, [1], [Ints((int?)null), ColumnVectors.Varchar("a,b")]);
        var s = ColumnVectors.Struct(DuckType.Struct([new DuckField("u", unionType)]), 1, [union]);
        Assert.Equal("{'u': a,b}", ValueFormatter.Format(s, 0));

        // SELECT MAP {'k': {'a': 'x y', 'b': NULL}}::VARCHAR
        var structType = DuckType.Struct([new DuckField("a", s_varchar), new DuckField("b", s_varchar)]);
        var values = ColumnVectors.Struct(structType, 1, [ColumnVectors.Varchar("x y"), ColumnVectors.Varchar((string?)null)]);
        var map = ColumnVectors.Map(DuckType.Map(s_varchar, structType), [1], ColumnVectors.Varchar("k"), values);
        Assert.Equal("{k={'a': x y, 'b': NULL}}", ValueFormatter.Format(map, 0));

        // SELECT MAP {[1]: 'a'}::VARCHAR
        var keys = ColumnVectors.List(DuckType.List(s_int), [1], Ints(1));
        var listKeyed = ColumnVectors.Map(DuckType.Map(keys.Type, s_varchar), [1], keys, ColumnVectors.Varchar("a"));
        Assert.Equal("{[1]=a}", ValueFormatter.Format(listKeyed, 0));
    }

    [Fact]
    public void Enums_render_their_label()
    {
        // SELECT ['a b', 'x,y']::ENUM('a b', 'x,y')[]::VARCHAR
        var labels = Enumerable.Range(0, 300).Select(i => $"label{i}").ToList();
        labels[0] = "a b";
        labels[299] = "x,y";
        var type = DuckType.Enum(labels);
        Assert.Equal(2, type.FixedWidth);
        var e = ColumnVectors.Fixed<ushort>(type, [0, 299]);
        var list = ColumnVectors.List(DuckType.List(type), [2], e);
        Assert.Equal("[a b, 'x,y']", ValueFormatter.Format(list, 0));
        Assert.Equal("x,y", ValueFormatter.Format(e, 1));
    }

    [Fact]
    public void Json_writes_numbers_as_numbers_and_the_rest_as_strings()
    {
        var type = DuckType.Struct([
            new DuckField("i", s_int), new DuckField("d", DuckType.Double), new DuckField("dec", DuckType.Decimal(3, 3)),
            new DuckField("h", DuckType.Of(DuckTypeId.HugeInt)), new DuckField("s", s_varchar), new DuckField("l", DuckType.List(s_int)),
            new DuckField("m", DuckType.Map(s_varchar, s_int)), new DuckField("b", DuckType.Boolean), new DuckField("date", DuckType.Of(DuckTypeId.Date)),
        ]);
        var row = ColumnVectors.Struct(type, 2, [
            Ints(42, null),
            ColumnVectors.Fixed<double>(DuckType.Double, [double.NaN, 1e20]), // .NET's NaN has its sign bit set: "-nan"
            ColumnVectors.Fixed<short>(DuckType.Decimal(3, 3), [(short)123, (short)-5]),
            ColumnVectors.Fixed<Int128>(DuckType.Of(DuckTypeId.HugeInt), [Int128.MaxValue, Int128.MinValue]),
            ColumnVectors.Varchar("a\"b", null),
            ColumnVectors.List(DuckType.List(s_int), [2, 0], Ints(1, null)),
            ColumnVectors.Map(DuckType.Map(s_varchar, s_int), [1, 0], ColumnVectors.Varchar("k"), Ints(7)),
            ColumnVectors.Fixed<byte>(DuckType.Boolean, [1, 0]),
            ColumnVectors.Fixed<int>(DuckType.Of(DuckTypeId.Date), [19727, -719163]),
        ]);
        Assert.Equal("""{"i":42,"d":"-nan","dec":0.123,"h":170141183460469231731687303715884105727,"s":"a\u0022b","l":[1,null],"m":{"k":7},"b":true,"date":"2024-01-05"}""",
            Json(row, 0));
        Assert.Equal("""{"i":null,"d":1e+20,"dec":-0.005,"h":-170141183460469231731687303715884105728,"s":null,"l":[],"m":{},"b":false,"date":"0001-12-31 (BC)"}""",
            Json(row, 1));
        using var parsed = JsonDocument.Parse(Json(row, 1));
        Assert.Equal(-0.005m, parsed.RootElement.GetProperty("dec").GetDecimal());
    }

    [Fact]
    public void Json_writes_a_union_as_its_member_and_null_as_null()
    {
        var type = DuckType.Union([new DuckField("num", s_int), new DuckField("str", s_varchar)]);
        var union = ColumnVectors.Union(type, [0, 1, null], [Ints(2, null, null), ColumnVectors.Varchar(null, "x", null)]);
        Assert.Equal("2", Json(union, 0));
        Assert.Equal("\"x\"", Json(union, 1));
        Assert.Equal("null", Json(union, 2));
    }

    private static string Json(ColumnVector v, int row)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            JsonValueWriter.Write(writer, v, row);
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
