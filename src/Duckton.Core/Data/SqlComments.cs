namespace Duckton.Core.Data;

/// <summary>SQL comments as DuckDB reads them, for the small scanners that split or inspect SQL text without parsing it.</summary>
public static class SqlComments
{
    /// <summary>
    /// When a comment starts at <paramref name="i"/> (<c>--</c> to the end of the line, or <c>/* ... */</c>), the index
    /// just after it; -1 when none starts there. A block comment the text does not close runs to the end of the text,
    /// with <paramref name="closed"/> false.
    /// </summary>
    public static int End(string sql, int i, out bool closed)
    {
        closed = true;
        if (i + 1 >= sql.Length)
        {
            return -1;
        }
        if (sql[i] == '-' && sql[i + 1] == '-')
        {
            var end = sql.IndexOf('\n', i);
            return end < 0 ? sql.Length : end + 1;
        }
        if (sql[i] == '/' && sql[i + 1] == '*')
        {
            var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
            closed = end >= 0;
            return closed ? end + 2 : sql.Length;
        }
        return -1;
    }
}
