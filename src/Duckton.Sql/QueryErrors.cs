using System.Text.RegularExpressions;

namespace Duckton.Sql;

/// <summary>
/// Turns an error of the query's own engine into one message for the user of <c>p2p_query</c>: DuckDB puts its own
/// prefix ("Binder Error: ") on whatever a table function reports, so the inner engine's prefix ("Catalog Error: ")
/// is replaced by words, its "Did you mean ..." suggestions (which name objects of the locked-down inner engine, not
/// of the user's database) are dropped, and a hint says what to do.
/// </summary>
internal static partial class QueryErrors
{
    // DuckDB error types are one or two capitalised words before " Error: " (Catalog, Parser, Invalid Input, Out of Range ...).
    [GeneratedRegex(@"\b(?<type>Out of Range|Not implemented|[A-Z][A-Za-z]*(?: [A-Z][a-z]+)?) Error: ")]
    private static partial Regex TypePrefix();

    // "\nDid you mean "pg_catalog.pg_class"?" and the like; up to the end of the line.
    [GeneratedRegex(@"\s*Did you mean [^\n]*")]
    private static partial Regex Suggestion();

    /// <summary>The message to raise for a failed <paramref name="function"/> call whose error text is <paramref name="message"/>.</summary>
    public static string Describe(string function, string message)
    {
        var text = Suggestion().Replace(message, "");
        string? type = null;
        text = TypePrefix().Replace(text, m =>
        {
            type ??= m.Groups["type"].Value;
            return "";
        });
        text = text.Trim();
        if (type is null)
        {
            // Our own errors (no peers, bad parameter, timeout ...) already say what to do.
            return text.StartsWith(function + ":", StringComparison.Ordinal) ? text : $"{function}: {text}";
        }
        var hint = Hint(type, text);
        return $"{function}: the query failed ({type.ToLowerInvariant()} error): {text}{(hint is null ? "" : "\nHint: " + hint)}";
    }

    private static string? Hint(string type, string text) => type switch
    {
        "Catalog" => "p2p_query runs the query in its own locked-down engine, which cannot see this database's tables, views or macros; "
            + "put the data in the query (VALUES, range(), a WITH clause) or read a shared file (share://...)",
        "Parser" => "fix the SQL syntax of the query text passed to p2p_query (quote it as one string; double any ' inside it)",
        "Binder" => "check the column names and types the query uses",
        "Permission" or "IO" when text.Contains("disabled", StringComparison.OrdinalIgnoreCase) || text.Contains("not allowed", StringComparison.OrdinalIgnoreCase) =>
            "the inner engine cannot read local files or the network; share a directory (storage.allowed_local_paths) and read share://<name>/<file>",
        "Permission" => "the inner engine refuses this on purpose (see docs/SECURITY.md)",
        "Interrupt" => null,
        _ => null,
    };
}
