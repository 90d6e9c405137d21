using System.Globalization;

namespace Duckton.Core.Data;

/// <summary>Column names as DuckDB names the columns of a subquery.</summary>
internal static class ColumnNames
{
    /// <summary>
    /// Renames repeated names the way DuckDB does when a result with repeated names becomes a subquery or a table
    /// function's output (<c>SELECT * FROM (SELECT 1 AS a, 2 AS a)</c> gives <c>a, a_1</c>): names compare
    /// case-insensitively in ASCII only (<c>A</c> repeats <c>a</c>, <c>Ä</c> does not repeat <c>ä</c>); a repeat gets <c>_k</c> appended, where k counts up per base name
    /// from that name's last suffix, skipping suffixed names already in use (<c>a, a_1, a, A, a_2</c> becomes
    /// <c>a, a_1, a_2, A_3, a_2_1</c>). An empty name is an empty base name: a repeat becomes <c>_1</c>. Names already
    /// unique are returned unchanged, so a result DuckDB could return itself is never renamed.
    /// </summary>
    public static string[] Deduplicate(IReadOnlyList<string> names)
    {
        var result = new string[names.Count];
        // Per lower-cased name: 1 when used once; for a base name that had repeats, the last suffix tried.
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            var lower = AsciiLower(name);
            if (!used.TryGetValue(lower, out var count))
            {
                used[lower] = 1;
                result[i] = name;
                continue;
            }
            var candidate = Suffixed(name, count);
            while (used.ContainsKey(AsciiLower(candidate)))
            {
                count++;
                candidate = Suffixed(name, count);
            }
            used[lower] = count;
            used[AsciiLower(candidate)] = 1;
            result[i] = candidate;
        }
        return result;
    }

    private static string AsciiLower(string s) => string.Create(s.Length, s, static (span, src) =>
    {
        for (var i = 0; i < src.Length; i++)
        {
            span[i] = src[i] is >= 'A' and <= 'Z' ? (char)(src[i] + 32) : src[i];
        }
    });

    private static string Suffixed(string name, int k) => name + "_" + k.ToString(CultureInfo.InvariantCulture);
}
