using System.Text;

namespace Duckton.Core.Configuration;

/// <summary>
/// Renders the catalogue as documentation: the key tables of docs/CONFIGURATION.md and the commented
/// example file config/duckton.example.toml. Tests compare both files with these renderings, so the
/// documents cannot drift from the code.
/// </summary>
internal static class ConfigDocs
{
    /// <summary>Markdown: one table per section with key, type, default, environment variables, allowed values and meaning.</summary>
    public static string KeyTables()
    {
        var sb = new StringBuilder();
        foreach (var section in ConfigCatalog.Sections)
        {
            var keys = ConfigCatalog.Keys.Where(k => SectionOf(k) == section).ToList();
            sb.Append("### `[").Append(section).Append("]`\n\n");
            sb.Append("| key | type | default | environment | allowed | meaning |\n");
            sb.Append("|---|---|---|---|---|---|\n");
            foreach (var key in keys)
            {
                sb.Append("| `").Append(key.Key).Append("` | ")
                  .Append(TypeName(key)).Append(key.Secret ? " (secret)" : "").Append(" | ")
                  .Append('`').Append(Cell(key.DefaultDocText())).Append("` | ")
                  .Append(string.Join("<br>", key.EnvVars.Select(e => $"`{e}`"))).Append(" | ")
                  .Append(Cell(key.AllowedDescription)).Append(" | ")
                  .Append(key.InEffect ? "" : "**Not yet in effect.** ").Append(Cell(key.Meaning)).Append(" |\n");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A TOML file with every section and key at its default, each key preceded by its meaning.</summary>
    public static string ExampleToml()
    {
        var sb = new StringBuilder();
        sb.Append("# duckton node configuration: every key at its built-in default.\n")
          .Append("#\n")
          .Append("# Put this file at <config-dir>/config.toml or point $P2P_CONFIG at it; keep only the keys you change.\n")
          .Append("# Layers, lowest to highest: defaults < this file < P2P_* environment < runtime (p2p_set) < per-call.\n")
          .Append("# Byte sizes take 512MB / 2GB (binary multiples); *_ms and *_secs keys take a number or 30s / 500ms / 7d.\n")
          .Append("# Generated from the key catalogue (ConfigCatalog); docs/CONFIGURATION.md has the same keys in tables.\n");
        string? current = null;
        foreach (var key in ConfigCatalog.Keys)
        {
            var section = SectionOf(key);
            if (section != current)
            {
                sb.Append("\n[").Append(section).Append("]\n");
                current = section;
            }
            sb.Append("# ").Append(key.InEffect ? "" : "NOT YET IN EFFECT. ").Append(key.Meaning).Append('\n');
            sb.Append("# ").Append(TypeName(key)).Append(key.Secret ? ", secret" : "").Append("; ")
              .Append(key.AllowedDescription).Append("; env ").Append(key.EnvVars[0]).Append('\n');
            sb.Append(key.Key[(section.Length + 1)..]).Append(" = ")
              .Append(Toml.TomlWriter.FormatValue(key.Default.ToToml())).Append('\n');
        }
        return sb.ToString();
    }

    private static string SectionOf(ConfigKey key) => key.Key[..key.Key.LastIndexOf('.')];

    /// <summary>The type as the docs name it.</summary>
    public static string TypeName(ConfigKey key) => key.Type switch
    {
        ConfigValueType.Bool => "bool",
        ConfigValueType.Int => "int",
        ConfigValueType.Float => "float",
        ConfigValueType.String => "string",
        ConfigValueType.Enum => "enum",
        ConfigValueType.StringList => "list of string",
        ConfigValueType.ByteSize => "byte size",
        ConfigValueType.Duration => key.Unit == DurationUnit.Milliseconds ? "duration (ms)" : "duration (s)",
        _ => key.Type.ToString(),
    };

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
