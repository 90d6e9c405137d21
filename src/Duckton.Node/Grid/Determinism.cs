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
    private static readonly string[] s_volatileFunctions =
    [
        "random", "rand", "setseed", "uuid", "gen_random_uuid", "uuidv4", "uuidv7", "now", "current_timestamp", "current_date", "current_time",
        "get_current_timestamp", "get_current_time", "transaction_timestamp", "statement_timestamp", "localtimestamp", "localtime", "today",
        "current_localtimestamp", "current_localtime", "nextval", "currval", "txid_current", "current_query",
    ];

    private static readonly string[] s_orderSensitiveAggregates =
    [
        "list", "array_agg", "string_agg", "group_concat", "listagg", "first", "last", "any_value", "arbitrary", "histogram", "list_distinct",
        "row_number", "rank", "dense_rank", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
    ];

    /// <summary>Null when the query looks deterministic, else the reason it cannot be verified by comparing results.</summary>
    public static string? UnverifiableReason(string sql)
    {
        var text = StripLiteralsAndComments(sql).ToLowerInvariant();
        foreach (Match m in Identifier().Matches(text))
        {
            var name = m.Groups[1].Value;
            var next = NextNonSpace(text, m.Index + m.Length);
            var isCall = next == '(';
            if (s_volatileFunctions.Contains(name) && (isCall || name is "current_timestamp" or "current_date" or "current_time" or "localtimestamp" or "localtime"))
            {
                return $"uses {name}(), which differs between runs";
            }
            if (name is "tablesample" || (name == "using" && Regex.IsMatch(text.AsSpan(m.Index).ToString(), @"^using\s+sample\b")))
            {
                return "samples rows (TABLESAMPLE / USING SAMPLE)";
            }
            if (isCall && s_orderSensitiveAggregates.Contains(name))
            {
                var args = Parenthesised(text, text.IndexOf('(', m.Index + m.Length - 1));
                var after = text.AsSpan(Math.Min(text.Length, m.Index + m.Length + args.Length + 2)).ToString();
                if (!args.Contains("order by", StringComparison.Ordinal) && !Regex.IsMatch(after, @"^\s*(filter\s*\([^)]*\)\s*)?over\s*\([^)]*order\s+by"))
                {
                    return $"{name}() without ORDER BY depends on row order";
                }
            }
        }
        if (Regex.IsMatch(text, @"\b(limit|offset|fetch\s+first|fetch\s+next)\b") && !Regex.IsMatch(text, @"\border\s+by\b"))
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

    [GeneratedRegex(@"\b([a-z_][a-z0-9_]*)\b")]
    private static partial Regex Identifier();
}
