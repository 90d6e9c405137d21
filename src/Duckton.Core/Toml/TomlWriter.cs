using System.Globalization;
using System.Text;

namespace Duckton.Core.Toml;

/// <summary>Writes a <see cref="TomlTable"/> as TOML 1.0.0 text that <see cref="TomlParser"/> reads back to the same values.</summary>
internal static class TomlWriter
{
    /// <summary>
    /// Formats a document: a table's plain values first, then its sub-tables as <c>[a.b]</c> sections and
    /// arrays of (non-inline) tables as <c>[[a.b]]</c> sections.
    /// </summary>
    public static string Write(TomlTable document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var sb = new StringBuilder();
        WriteTable(sb, document, [], isArrayElement: false);
        return sb.ToString();
    }

    /// <summary>A key as TOML spells it: bare when possible, else a quoted basic string.</summary>
    public static string FormatKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length > 0 && key.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-'))
        {
            return key;
        }
        return FormatString(key);
    }

    /// <summary>A string as a TOML basic string with escapes.</summary>
    public static string FormatString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\f': sb.Append("\\f"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (c < 0x20 || c == 0x7F)
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A single value in inline form (tables as <c>{ ... }</c>).</summary>
    public static string FormatValue(TomlValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var sb = new StringBuilder();
        AppendInline(sb, value);
        return sb.ToString();
    }

    private static bool IsSection(TomlValue value) => value is TomlTable { IsInline: false };

    private static bool IsArrayOfSections(TomlValue value) =>
        value is TomlArray { Count: > 0 } array && array.All(IsSection);

    private static void WriteTable(StringBuilder sb, TomlTable table, List<string> path, bool isArrayElement)
    {
        var hasPlainValues = table.Any(kv => !IsSection(kv.Value) && !IsArrayOfSections(kv.Value));
        var hasSections = table.Any(kv => IsSection(kv.Value) || IsArrayOfSections(kv.Value));
        if (path.Count > 0 && (isArrayElement || hasPlainValues || !hasSections))
        {
            if (sb.Length > 0) sb.Append('\n');
            var header = string.Join('.', path.Select(FormatKey));
            sb.Append(isArrayElement ? $"[[{header}]]\n" : $"[{header}]\n");
        }
        foreach (var (key, value) in table)
        {
            if (IsSection(value) || IsArrayOfSections(value)) continue;
            sb.Append(FormatKey(key)).Append(" = ");
            AppendInline(sb, value);
            sb.Append('\n');
        }
        foreach (var (key, value) in table)
        {
            if (IsSection(value))
            {
                path.Add(key);
                WriteTable(sb, (TomlTable)value, path, isArrayElement: false);
                path.RemoveAt(path.Count - 1);
            }
            else if (IsArrayOfSections(value))
            {
                path.Add(key);
                foreach (var element in (TomlArray)value)
                {
                    WriteTable(sb, (TomlTable)element, path, isArrayElement: true);
                }
                path.RemoveAt(path.Count - 1);
            }
        }
    }

    private static void AppendInline(StringBuilder sb, TomlValue value)
    {
        switch (value)
        {
            case TomlString s:
                sb.Append(FormatString(s.Value));
                break;
            case TomlInteger i:
                sb.Append(i.Value.ToString(CultureInfo.InvariantCulture));
                break;
            case TomlFloat f:
                sb.Append(FormatFloat(f.Value));
                break;
            case TomlBoolean b:
                sb.Append(b.Value ? "true" : "false");
                break;
            case TomlDateTime d:
                sb.Append(d.ToString());
                break;
            case TomlArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    AppendInline(sb, a[i]);
                }
                sb.Append(']');
                break;
            case TomlTable t:
                if (t.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }
                sb.Append("{ ");
                var first = true;
                foreach (var (key, item) in t)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    sb.Append(FormatKey(key)).Append(" = ");
                    AppendInline(sb, item);
                }
                sb.Append(" }");
                break;
        }
    }

    /// <summary>A float that always reads back as a float (never as an integer) with the same value.</summary>
    public static string FormatFloat(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.AsSpan().IndexOfAny(".eE") >= 0 ? text : text + ".0";
    }
}
