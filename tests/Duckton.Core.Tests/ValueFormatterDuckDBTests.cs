using System.Globalization;
using Duckton.Core.Data;

namespace Duckton.Core.Tests;

/// <summary>
/// Checks <see cref="ValueFormatter"/> against DuckDB v1.5.6's own CAST(x AS VARCHAR) of ~1,500 scalar values
/// (TestData/duckdb_casts.tsv: storage bytes read from DuckDB's vectors and the text DuckDB made of them).
/// </summary>
public class ValueFormatterDuckDBTests
{
    private static readonly string s_path = Path.Combine(AppContext.BaseDirectory, "TestData", "duckdb_casts.tsv");

    public static TheoryData<string> Types()
    {
        var data = new TheoryData<string>();
        foreach (var type in ReadCases().Select(c => c.TypeSql).Distinct())
        {
            data.Add(type);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Formatter_matches_DuckDB_casts(string typeSql)
    {
        var type = ParseType(typeSql);
        var failures = new List<string>();
        var cases = ReadCases().Where(c => c.TypeSql == typeSql).ToList();
        Assert.NotEmpty(cases);
        foreach (var (_, storage, expected) in cases)
        {
            var vector = type.IsByteString
                ? ColumnVectors.ByteStrings(type, [storage])
                : new ColumnVector(type, 1, storage);
            var actual = ValueFormatter.Format(vector, 0);
            if (actual != expected)
            {
                failures.Add($"{Convert.ToHexString(storage)}: expected '{expected}', got '{actual}'");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} {typeSql} values differ:\n" + string.Join("\n", failures.Take(20)));
    }

    private static IEnumerable<(string TypeSql, byte[] Storage, string Expected)> ReadCases()
    {
        foreach (var line in File.ReadLines(s_path))
        {
            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }
            var parts = line.Split('\t');
            yield return (parts[0], Convert.FromHexString(parts[1]), Unescape(parts[2]));
        }
    }

    private static string Unescape(string text) =>
        text.Replace("\\\\", "\u0001", StringComparison.Ordinal).Replace("\\t", "\t", StringComparison.Ordinal)
            .Replace("\\n", "\n", StringComparison.Ordinal).Replace("\u0001", "\\", StringComparison.Ordinal);

    private static DuckType ParseType(string sql)
    {
        if (sql.StartsWith("DECIMAL(", StringComparison.Ordinal))
        {
            var args = sql[8..^1].Split(',');
            return DuckType.Decimal(byte.Parse(args[0], CultureInfo.InvariantCulture), byte.Parse(args[1], CultureInfo.InvariantCulture));
        }
        return sql switch
        {
            "TIMETZ" => DuckType.Of(DuckTypeId.TimeTz),
            "TIMESTAMPTZ" => DuckType.Of(DuckTypeId.TimestampTz),
            _ => DuckType.Of(Enum.GetValues<DuckTypeId>().Single(id => DuckType.SqlName(id) == sql)),
        };
    }
}
