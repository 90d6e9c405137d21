using Duckton.Core.Data;

namespace Duckton.Core.Tests;

public class DuckTypeTests
{
    [Fact]
    public void Nested_types_print_as_DuckDB_spells_them()
    {
        var t = DuckType.Struct([new DuckField("a", DuckType.Integer), new DuckField("b c", DuckType.List(DuckType.Varchar))]);
        Assert.Equal("STRUCT(a INTEGER, \"b c\" VARCHAR[])", t.ToString());
        Assert.Equal("MAP(VARCHAR, DOUBLE[3])", DuckType.Map(DuckType.Varchar, DuckType.Array(DuckType.Double, 3)).ToString());
        Assert.Equal("DECIMAL(18,3)", DuckType.Decimal(18, 3).ToString());
    }

    [Fact]
    public void Equality_is_structural()
    {
        Assert.Equal(DuckType.Enum(["a", "b"]), DuckType.Enum(["a", "b"]));
        Assert.NotEqual(DuckType.Enum(["a", "b"]), DuckType.Enum(["a", "c"]));
        Assert.NotEqual(DuckType.Decimal(18, 3), DuckType.Decimal(18, 2));
    }

    [Theory]
    [InlineData(4, 2)]
    [InlineData(9, 4)]
    [InlineData(18, 8)]
    [InlineData(38, 16)]
    public void Decimal_storage_follows_DuckDB(byte width, int bytes) => Assert.Equal(bytes, DuckType.Decimal(width, 0).FixedWidth);
}
