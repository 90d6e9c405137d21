using Duckton.Core.Data;
using Duckton.Core.Hashing;

namespace Duckton.Sql.Tests;

/// <summary>
/// Repeated column names, untyped NULLs, GEOMETRY and VARIANT through p2p_query, each compared with what DuckDB itself
/// returns for the same query used as a subquery.
/// </summary>
[Collection(SqlCollection.Name)]
public class NamesAndTypesTests(SqlFixture db)
{
    private static string Quote(string sql) => sql.Replace("'", "''", StringComparison.Ordinal);

    [Theory]
    [InlineData("SELECT interval 2 days, interval 2 day")]
    [InlineData("SELECT 1 AS a, 2 AS a, 3 AS a, 4 AS a_1")]
    [InlineData("SELECT 1 AS a, 2 AS a_1, 3 AS a, 4 AS A, 5 AS a_2")]
    [InlineData("SELECT 1 AS a_1, 2 AS a, 3 AS a")]
    [InlineData("SELECT 1 AS \"Ä\", 2 AS \"ä\", 3 AS \"ä\"")]
    [InlineData("SELECT 1, 1, 2")]
    public void Repeated_names_are_named_as_DuckDB_names_a_subquerys_columns(string query)
    {
        var direct = db.Query($"SELECT * FROM ({query})");
        var viaP2p = db.Query($"SELECT * FROM p2p_query('{Quote(query)}')");
        Assert.Equal(direct.Schema.Names, viaP2p.Schema.Names);
        Assert.Equal(direct.Schema.Names, ColumnNames.Deduplicate(db.Query(query).Schema.Names));
        Assert.Equal(direct.Schema.Types.Select(t => t.ToString()), viaP2p.Schema.Types.Select(t => t.ToString()));
        Assert.Equal(db.Scalar($"SELECT concat_ws('|', *COLUMNS(*)) FROM ({query})"), db.Scalar($"SELECT concat_ws('|', *COLUMNS(*)) FROM p2p_query('{Quote(query)}')"));
    }

    /// <summary>
    /// An untyped NULL keeps DuckDB's "NULL" type inside a query that uses p2p_query as its source, as it does in a
    /// subquery; in the final result DuckDB shows it as INTEGER either way.
    /// </summary>
    [Fact]
    public void Untyped_nulls_have_the_type_DuckDB_gives_them()
    {
        const string Query = "SELECT NULL AS x, [NULL] AS l, {'a': NULL} AS s, NULL::\"NULL\" AS n";
        var direct = db.Query(Query);
        var viaP2p = db.Query($"SELECT * FROM p2p_query('{Quote(Query)}')");
        Assert.Equal(direct.Schema.Types.Select(t => t.ToString()), viaP2p.Schema.Types.Select(t => t.ToString()));
        Assert.Equal("INTEGER", viaP2p.Schema.Types[0].ToString());
        Assert.Equal(db.Scalar($"SELECT [typeof(x), typeof(n)]::VARCHAR FROM ({Query})"),
            db.Scalar($"SELECT [typeof(x), typeof(n)]::VARCHAR FROM p2p_query('{Quote(Query)}')"));
        // Known limit: a "NULL" nested in a LIST or STRUCT arrives as DuckDB's final-result type (INTEGER).
        Assert.Equal("['INTEGER[]', 'STRUCT(a INTEGER)']", db.Scalar($"SELECT [typeof(l), typeof(s)]::VARCHAR FROM p2p_query('{Quote(Query)}')"));
        Assert.Equal("\"NULL\"", db.Scalar($"SELECT typeof(x) FROM p2p_query('{Quote(Query)}')"));
        Assert.Null(db.Scalar($"SELECT x FROM p2p_query('{Quote(Query)}')"));
        // NULL::INTEGER stays INTEGER: only the untyped NULL has the "NULL" type.
        Assert.Equal("INTEGER", db.Scalar("SELECT typeof(x) FROM p2p_query('SELECT NULL::INTEGER AS x')"));
        // The engine (local runs and every host's job) reports the "NULL" type, and the canonical hash tells it apart
        // (type id 36) from an INTEGER column of NULLs; a script's last statement keeps DuckDB's INTEGER.
        using var engine = new Duckton.Engine.LockedDownEngine(Duckton.Engine.EngineOptions.Default with { WarmInstances = 0 });
        var untyped = engine.Execute("SELECT NULL AS x, 1 AS y; ");
        var integer = engine.Execute("SELECT NULL::INTEGER AS x, 1 AS y");
        Assert.Equal(DuckTypeId.SqlNull, untyped.Schema.Types[0].Id);
        Assert.Equal(DuckTypeId.Integer, integer.Schema.Types[0].Id);
        Assert.Equal(DuckTypeId.Integer, untyped.Schema.Types[1].Id);
        Assert.NotEqual(CanonicalResultHash.Compute(untyped).ToString(), CanonicalResultHash.Compute(integer).ToString());
        Assert.Equal(DuckTypeId.SqlNull, engine.Execute("SELECT NULL AS x FROM range(3000) -- trailing comment").Schema.Types[0].Id);
    }

    public static TheoryData<string> Geometries => new()
    {
        "POINT (1 2)", "POINT Z (1 2 3)", "POINT M (1 2 4)", "POINT ZM (1 2 3 4)", "POINT EMPTY",
        "LINESTRING (0 0, 1.5 -2.25, 0.1 -0)", "LINESTRING EMPTY", "POLYGON ((0 0, 1 0, 1 1, 0 0), (0.2 0.2, 0.3 0.2, 0.2 0.3, 0.2 0.2))",
        "MULTIPOINT (1 2, 3 4)", "MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))", "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))", "MULTIPOLYGON EMPTY",
        "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1e+20 3))", "GEOMETRYCOLLECTION EMPTY",
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void Geometry_comes_back_as_DuckDBs_own_value(string wkt)
    {
        var query = $"SELECT '{wkt}'::GEOMETRY AS g, NULL::GEOMETRY AS n, 7 AS i";
        var direct = db.Query(query);
        var viaP2p = db.Query($"SELECT * FROM p2p_query('{Quote(query)}')");
        Assert.Equal("GEOMETRY", viaP2p.Schema.Types[0].ToString());
        Assert.Equal(db.Scalar($"SELECT typeof(g) FROM ({query})"), db.Scalar($"SELECT typeof(g) FROM p2p_query('{Quote(query)}')"));
        // DuckDB itself compares the values (typed), and renders the carried value as it renders its own.
        Assert.Equal("true", db.Scalar($"SELECT g = '{wkt}'::GEOMETRY AND n IS NULL FROM p2p_query('{Quote(query)}')"));
        var text = db.Scalar($"SELECT g::VARCHAR FROM ({query})");
        Assert.Equal(text, db.Scalar($"SELECT g::VARCHAR FROM p2p_query('{Quote(query)}')"));
        // duckton's own rendering (CLI, JSON) is DuckDB's WKT text.
        Assert.Equal(text, ValueFormatter.Format(viaP2p.Batches[0].Columns[0], 0));
        Assert.True(Wkb.IsValid(direct.Batches[0].Columns[0].GetBytes(0)));
        Assert.Equal(CanonicalResultHash.Compute(direct).ToString(), CanonicalResultHash.Compute(viaP2p).ToString());
    }

    [Fact]
    public void Geometry_hash_is_over_the_wkb_and_differs_from_blob()
    {
        var g = db.Query("SELECT 'POINT (1 2)'::GEOMETRY AS g");
        var other = db.Query("SELECT 'POINT (1 3)'::GEOMETRY AS g");
        Assert.NotEqual(CanonicalResultHash.Compute(g).ToString(), CanonicalResultHash.Compute(other).ToString());
        // The same bytes as a BLOB hash differently: the type id is part of every cell and of the schema.
        var bytes = g.Batches[0].Columns[0].GetBytes(0).ToArray();
        var schema = new ResultSchema(["g"], [DuckType.Of(DuckTypeId.Blob)]);
        var blob = new ResultSet(schema, [new ResultBatch(schema, [ColumnVectors.ByteStrings(DuckType.Of(DuckTypeId.Blob), [bytes])], 1)]);
        Assert.NotEqual(CanonicalResultHash.Compute(g).ToString(), CanonicalResultHash.Compute(blob).ToString());
    }

    [Fact]
    public void Geometry_with_a_crs_is_refused_rather_than_stripped()
    {
        var e = Assert.ThrowsAny<Exception>(() => db.Query("SELECT * FROM p2p_query('SELECT ''POINT (1 2)''::GEOMETRY(''OGC:CRS84'') AS g')"));
        Assert.Contains("coordinate reference system", e.Message, StringComparison.Ordinal);
        Assert.Contains("g::GEOMETRY", e.Message, StringComparison.Ordinal);
        Assert.Equal("POINT (1 2)", db.Scalar("SELECT g FROM p2p_query('SELECT (''POINT (1 2)''::GEOMETRY(''OGC:CRS84''))::GEOMETRY AS g')"));
    }

    [Fact]
    public void Variant_is_refused_with_the_reason_and_a_way_out()
    {
        var e = Assert.ThrowsAny<Exception>(() => db.Query("SELECT * FROM p2p_query('SELECT 1::VARIANT AS v')"));
        Assert.Contains("VARIANT", e.Message, StringComparison.Ordinal);
        Assert.Contains("v::JSON", e.Message, StringComparison.Ordinal);
        Assert.Equal("1", db.Scalar("SELECT v FROM p2p_query('SELECT (1::VARIANT)::JSON AS v')"));
    }
}
