using System.Text;
using System.Text.RegularExpressions;

namespace Duckton.Node.Grid;

/// <summary>
/// A conservative scan for SQL whose result may differ between correct runs: clock, random and UUID functions,
/// sampling, LIMIT/OFFSET without ORDER BY, and order-sensitive aggregates without ORDER BY. It errs towards
/// "unverifiable": a false alarm only costs the verified flag, a miss would blame an honest host.
/// </summary>
internal static partial class Determinism
{
    private static readonly HashSet<string> s_volatileFunctions = new(StringComparer.Ordinal)
    {
        "random", "rand", "setseed", "uuid", "gen_random_uuid", "uuidv4", "uuidv7", "now", "current_timestamp", "current_date", "current_time",
        "get_current_timestamp", "get_current_time", "transaction_timestamp", "statement_timestamp", "localtimestamp", "localtime", "today",
        "current_localtimestamp", "current_localtime", "nextval", "currval", "txid_current", "current_query",
    };

    private static readonly HashSet<string> s_orderSensitiveAggregates = new(StringComparer.Ordinal)
    {
        "list", "array_agg", "string_agg", "group_concat", "listagg", "first", "last", "any_value", "arbitrary", "histogram", "list_distinct",
        "row_number", "rank", "dense_rank", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
    };

    // Identifiers are looked up as spans of the query text: this runs for every query, and most identifiers are neither.
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> s_volatileLookup = s_volatileFunctions.GetAlternateLookup<ReadOnlySpan<char>>();
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> s_orderSensitiveLookup = s_orderSensitiveAggregates.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Null when the query looks deterministic, else the reason it cannot be verified by comparing results.</summary>
    public static string? UnverifiableReason(string sql)
    {
        var text = StripLiteralsAndComments(sql).ToLowerInvariant();
        foreach (var m in Identifier().EnumerateMatches(text))
        {
            var name = text.AsSpan(m.Index, m.Length);
            var next = NextNonSpace(text, m.Index + m.Length);
            var isCall = next == '(';
            if (s_volatileLookup.Contains(name) && (isCall || name is "current_timestamp" or "current_date" or "current_time" or "localtimestamp" or "localtime"))
            {
                return $"uses {name}(), which differs between runs";
            }
            if (name is "tablesample" || (name is "using" && UsingSample().IsMatch(text.AsSpan(m.Index))))
            {
                return "samples rows (TABLESAMPLE / USING SAMPLE)";
            }
            if (isCall && s_orderSensitiveLookup.Contains(name))
            {
                var args = Parenthesised(text, text.IndexOf('(', m.Index + m.Length - 1));
                var after = text.AsSpan(Math.Min(text.Length, m.Index + m.Length + args.Length + 2));
                if (!args.Contains("order by", StringComparison.Ordinal) && !OrderedWindow().IsMatch(after))
                {
                    return $"{name}() without ORDER BY depends on row order";
                }
            }
        }
        if (LimitOrOffset().IsMatch(text) && !OrderBy().IsMatch(text))
        {
            return "LIMIT/OFFSET without ORDER BY picks arbitrary rows";
        }
        return null;
    }

    private static char NextNonSpace(string s, int i)
    {
        while (i < s.Length && char.IsWhiteSpace(s[i]))
        {
            i++;
        }
        return i < s.Length ? s[i] : '\0';
    }

    private static string Parenthesised(string s, int open)
    {
        if (open < 0)
        {
            return "";
        }
        var depth = 0;
        for (var i = open; i < s.Length; i++)
        {
            depth += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
            if (depth == 0)
            {
                return s[(open + 1)..i];
            }
        }
        return s[(open + 1)..];
    }

    /// <summary>Replaces string literals with <c>''</c> and drops comments, so words inside them are not read as SQL.</summary>
    internal static string StripLiteralsAndComments(string sql)
    {
        var sb = new StringBuilder(sql.Length);
        for (var i = 0; i < sql.Length; i++)
        {
            var c = sql[i];
            if (c == '\'')
            {
                var j = i + 1;
                while (j < sql.Length && !(sql[j] == '\'' && (j + 1 >= sql.Length || sql[j + 1] != '\'')))
                {
                    j += sql[j] == '\'' ? 2 : 1;
                }
                sb.Append("''");
                i = j;
            }
            else if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                while (i < sql.Length && sql[i] != '\n')
                {
                    i++;
                }
                sb.Append(' ');
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 1;
                sb.Append(' ');
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"\b[a-z_][a-z0-9_]*\b")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^using\s+sample\b")]
    private static partial Regex UsingSample();

    [GeneratedRegex(@"^\s*(filter\s*\([^)]*\)\s*)?over\s*\([^)]*order\s+by")]
    private static partial Regex OrderedWindow();

    [GeneratedRegex(@"\b(limit|offset|fetch\s+first|fetch\s+next)\b")]
    private static partial Regex LimitOrOffset();

    [GeneratedRegex(@"\border\s+by\b")]
    private static partial Regex OrderBy();
}
