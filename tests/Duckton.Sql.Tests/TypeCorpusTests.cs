using Duckton.Core.Data;

namespace Duckton.Sql.Tests;

/// <summary>p2p_query(Q) returns exactly what Q returns directly: same names, same types, same values, same order.</summary>
[Collection(SqlCollection.Name)]
public class TypeCorpusTests(SqlFixture db)
{
    public static TheoryData<string> Corpus => new()
    {
        "SELECT true AS b, false AS f, NULL::BOOLEAN AS n",
        "SELECT (-128)::TINYINT a, 127::TINYINT b, (-32768)::SMALLINT c, 2147483647::INTEGER d, (-9223372036854775808)::BIGINT e",
        "SELECT 255::UTINYINT a, 65535::USMALLINT b, 4294967295::UINTEGER c, 18446744073709551615::UBIGINT d",
        "SELECT 170141183460469231731687303715884105727::HUGEINT a, (-170141183460469231731687303715884105727)::HUGEINT b, 340282366920938463463374607431768211455::UHUGEINT c",
        "SELECT 1.5::FLOAT a, 'nan'::DOUBLE b, 'inf'::DOUBLE c, '-inf'::FLOAT d, -0.0::DOUBLE e, 1e308::DOUBLE f, 5e-324::DOUBLE g",
        "SELECT 1.23::DECIMAL(4,2) a, 12345.6789::DECIMAL(9,4) b, 123456789012.345678::DECIMAL(18,6) c, 12345678901234567890123456789.123456789::DECIMAL(38,9) d",
        "SELECT DATE '2024-02-29' a, DATE '0001-01-01' b, 'infinity'::DATE c, DATE '1969-12-31' d",
        "SELECT TIME '23:59:59.999999' a, TIMETZ '12:34:56+05:30' b, '12:00:00.123456789'::TIME_NS c",
        "SELECT TIMESTAMP '2024-01-01 12:34:56.789012' a, TIMESTAMP_S '2024-01-01 00:00:01' b, TIMESTAMP_MS '2024-01-01 00:00:00.123' c, TIMESTAMP_NS '2024-01-01 00:00:00.123456789' d, TIMESTAMPTZ '2024-06-01 10:00:00+02' e",
        "SELECT INTERVAL '1 year 2 months 3 days 04:05:06.789' a, INTERVAL '-5 days' b",
        "SELECT 'hello' a, '' b, 'a longer string than twelve bytes, with ünïcödé 🦆' c, NULL::VARCHAR d",
        "SELECT '\\x00\\xFFabc'::BLOB a, ''::BLOB b",
        "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID a, '00000000-0000-0000-0000-000000000000'::UUID b, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::UUID c",
        "SELECT '101100111'::BIT a, '1'::BIT b",
        "SELECT 'sad'::ENUM('sad', 'ok', 'happy') a, NULL::ENUM('x') b",
        "SELECT [1, 2, NULL] a, []::INTEGER[] b, NULL::INTEGER[] c, [[1], [], NULL, [2, 3]] d, [NULL]::VARCHAR[] e",
        "SELECT {'a': 1, 'b': 'x'} a, {'a': NULL, 'b': NULL}::STRUCT(a INTEGER, b VARCHAR) b, NULL::STRUCT(a INTEGER) c, {'n': {'m': [1, 2]}} d",
        "SELECT MAP {'k1': 1, 'k2': NULL} a, MAP {}::MAP(VARCHAR, INTEGER) b, MAP {1: [1.5, 2.5]} c",
        "SELECT [1, 2, 3]::INTEGER[3] a, [[1, 2], [3, 4]]::INTEGER[2][2] b, ['a', NULL]::VARCHAR[2] c, NULL::INTEGER[2] d",
        "SELECT union_value(num := 2)::UNION(num INTEGER, str VARCHAR) a, union_value(str := 'x')::UNION(num INTEGER, str VARCHAR) b",
        "SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE i END n, CASE WHEN i % 5 = 0 THEN NULL ELSE 'v' || i END s, CASE WHEN i % 7 = 0 THEN NULL ELSE [i, NULL] END l, CASE WHEN i % 4 = 0 THEN NULL ELSE {'x': i, 'y': CASE WHEN i % 2 = 0 THEN NULL ELSE 'odd' END} END st FROM range(5000) t(i) ORDER BY i",
        "SELECT i, [j for j in range(i % 5)] l, map_from_entries([(i::VARCHAR, i)]) m FROM range(3000) t(i) ORDER BY i",
        "SELECT * FROM range(10) WHERE false",
        "SELECT 1 AS \"weird name\", 2 AS \"Count\", 3 AS \"ÄÖÜ\"",
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public void P2p_query_returns_what_the_query_returns(string query)
    {
        var direct = db.Query(query);
        var quoted = query.Replace("'", "''", StringComparison.Ordinal);
        var viaP2p = db.Query($"SELECT * FROM p2p_query('{quoted}')");
        Assert.Equal(direct.Schema.Names, viaP2p.Schema.Names);
        Assert.Equal(direct.Schema.Types.Select(t => t.ToString()), viaP2p.Schema.Types.Select(t => t.ToString()));
        Assert.Equal(direct.RowCount, viaP2p.RowCount);
        // DuckDB itself compares the two (typed, NULL-aware, nested-aware) in both directions, keeping order.
        var diff = db.Scalar(
            $"WITH d AS (SELECT row_number() OVER () AS __rn, * FROM ({query})), " +
            $"p AS (SELECT row_number() OVER () AS __rn, * FROM p2p_query('{quoted}')) " +
            "SELECT count(*) FROM ((SELECT * FROM d EXCEPT ALL SELECT * FROM p) UNION ALL (SELECT * FROM p EXCEPT ALL SELECT * FROM d))");
        Assert.Equal("0", diff);
    }

    [Fact]
    public void A_million_rows_of_int_double_varchar_come_back_intact()
    {
        const string q = "SELECT i::INTEGER AS i, i * 1.5 AS d, 'row-' || i AS s FROM range(1000000) t(i)";
        const string agg = "SELECT {'n': count(*), 'i': sum(i), 'd': sum(d), 'len': sum(length(s)), 'lo': min(s), 'hi': max(s), 'types': first(typeof(i) || typeof(d) || typeof(s))}";
        var direct = db.Scalar($"{agg} FROM ({q})");
        Assert.Contains("'n': 1000000", direct);
        Assert.Equal(direct, db.Scalar($"{agg} FROM p2p_query('{q.Replace("'", "''", StringComparison.Ordinal)}')"));
    }
}
