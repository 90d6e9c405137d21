using Duckton.Core.Toml;

namespace Duckton.Core.Configuration;

/// <summary>Reads one layer (TOML document, environment, text overrides) into resolved values, with precise errors.</summary>
internal static class ConfigLayers
{
    /// <summary>Parses one key's value from text (SQL setter, per-call override).</summary>
    public static ResolvedValue ParseText(string key, string text, ConfigSource source, string? origin)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(text);
        if (!ConfigCatalog.TryGet(key.Trim(), out var descriptor))
        {
            throw ConfigException.UnknownKey(key, origin);
        }
        if (!descriptor.TryParse(text, out var value, out var problem))
        {
            throw ConfigException.InvalidValue(descriptor.Key, Show(text), problem, origin);
        }
        return new ResolvedValue(value, source, origin);
    }

    private static string Show(string text) => text.Length == 0 ? "\"\"" : text;

    /// <summary>Largest configuration file read (1 MiB): a real one is a few KiB; <c>P2P_CONFIG=/dev/zero</c> must not fill memory.</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>Reads a TOML file as a sparse layer. Every key must be in the catalogue.</summary>
    public static Dictionary<string, ResolvedValue> ReadFile(string path, ConfigSource source)
    {
        TomlTable document;
        try
        {
            document = TomlParser.Parse(ReadBounded(path), path);
        }
        catch (TomlException e)
        {
            throw new ConfigException($"{e.Message} (configuration file is not valid TOML)", null, null, path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read configuration file: {e.Message}", null, null, path, e);
        }
        return ReadDocument(document, path, source);
    }

    /// <summary>The file's bytes, refusing (without reading on) one larger than <see cref="MaxFileBytes"/>; works for devices and pipes too.</summary>
    private static byte[] ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        var buffer = new byte[MaxFileBytes + 1];
        var total = 0;
        int n;
        while (total < buffer.Length && (n = stream.Read(buffer, total, buffer.Length - total)) > 0)
        {
            total += n;
        }
        if (total > MaxFileBytes)
        {
            throw new ConfigException($"{path}: the configuration file is larger than the limit of 1 MiB ({MaxFileBytes} bytes); is it the right file (check P2P_CONFIG)?", null, null, path);
        }
        return buffer[..total];
    }

    /// <summary>Reads a parsed TOML document as a sparse layer; <paramref name="label"/> prefixes errors.</summary>
    public static Dictionary<string, ResolvedValue> ReadDocument(TomlTable document, string label, ConfigSource source)
    {
        var layer = new Dictionary<string, ResolvedValue>(StringComparer.Ordinal);
        Walk(document, "", label, source, layer);
        return layer;
    }

    private static void Walk(TomlTable table, string prefix, string label, ConfigSource source, Dictionary<string, ResolvedValue> layer)
    {
        foreach (var (name, value) in table)
        {
            var path = prefix.Length == 0 ? name : prefix + "." + name;
            var origin = $"{label}:{value.Position}";
            if (ConfigCatalog.TryGet(path, out var descriptor))
            {
                if (!descriptor.TryFromToml(value, out var typed, out var problem))
                {
                    throw ConfigException.InvalidValue(path, Shown(value), problem, origin);
                }
                layer[path] = new ResolvedValue(typed, source, origin);
            }
            else if (ConfigCatalog.IsSection(path))
            {
                if (value is not TomlTable section)
                {
                    throw new ConfigException(
                        $"{origin}: '{path}' is a section, not a value: write [{path}] followed by its keys (SELECT * FROM p2p_config() lists them)",
                        path, Shown(value), origin);
                }
                Walk(section, path, label, source, layer);
            }
            else
            {
                throw ConfigException.UnknownKey(path, origin);
            }
        }
    }

    private static string Shown(TomlValue value) => value switch
    {
        TomlTable => "(a table)",
        TomlArray { IsArrayOfTables: true } => "(an array of tables)",
        _ => TomlWriter.FormatValue(value),
    };

    /// <summary>
    /// Reads every key's environment variables. An empty variable counts as unset; two names of one key
    /// that disagree are an error (which one wins would be a guess).
    /// </summary>
    public static Dictionary<string, ResolvedValue> ReadEnvironment(Func<string, string?> environment)
    {
        var layer = new Dictionary<string, ResolvedValue>(StringComparer.Ordinal);
        foreach (var descriptor in ConfigCatalog.Keys)
        {
            string? firstName = null;
            foreach (var name in descriptor.EnvVars)
            {
                var text = environment(name);
                if (string.IsNullOrWhiteSpace(text))
                {
                    continue;
                }
                var origin = "environment variable " + name;
                if (!descriptor.TryParse(text, out var value, out var problem))
                {
                    throw ConfigException.InvalidValue(descriptor.Key, text, problem, origin);
                }
                if (firstName is not null)
                {
                    var earlier = layer[descriptor.Key].Value;
                    if (!earlier.Equals(value))
                    {
                        throw new ConfigException(
                            $"environment variables {firstName} and {name} both set {descriptor.Key} but disagree ({earlier} vs {value}); set only one",
                            descriptor.Key, text, origin);
                    }
                    continue;
                }
                firstName = name;
                layer[descriptor.Key] = new ResolvedValue(value, ConfigSource.Env, origin);
            }
        }
        return layer;
    }
}
