using Duckton.Core.Data;

namespace Duckton.Core.Tests.Data;

public class SqlCommentsTests
{
    [Theory]
    [InlineData("SELECT 1", 0, -1, true)]
    [InlineData("-- note\nSELECT 1", 0, 8, true)]
    [InlineData("SELECT 1 -- to the end", 9, 22, true)]
    [InlineData("/* a */ SELECT 1", 0, 7, true)]
    [InlineData("/* open SELECT 1", 0, 16, false)]
    [InlineData("-", 0, -1, true)]
    [InlineData("a - b / c", 2, -1, true)]
    public void A_comment_ends_where_DuckDB_ends_it(string sql, int at, int expected, bool expectedClosed)
    {
        Assert.Equal(expected, SqlComments.End(sql, at, out var closed));
        Assert.Equal(expectedClosed, closed);
    }
}
