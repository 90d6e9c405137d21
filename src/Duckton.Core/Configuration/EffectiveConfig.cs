using System.Collections.Frozen;
using Duckton.Core.Toml;

namespace Duckton.Core.Configuration;

/// <summary>A value after layering, with the layer it came from and a readable origin for error messages.</summary>
internal readonly record struct ResolvedValue(ConfigValue Value, ConfigSource Source, string? Origin);

/// <summary>
/// The configuration in force: the typed <see cref="NodeConfig"/>, and for every key its value and the
/// layer it came from. Immutable; validated as a whole when it was built.
/// </summary>
public sealed class EffectiveConfig
{
    private const string Redacted = "<redacted>";
    private readonly FrozenDictionary<string, ResolvedValue> _values;

    private EffectiveConfig(FrozenDictionary<string, ResolvedValue> values, NodeConfig config)
    {
        _values = values;
        Config = config;
    }

    /// <summary>Built-in defaults only.</summary>
    public static EffectiveConfig Defaults { get; } = Build(ConfigCatalog.Keys.ToDictionary(
        k => k.Key, k => new ResolvedValue(k.Default, ConfigSource.Default, null), StringComparer.Ordinal));

    /// <summary>The typed configuration.</summary>
    public NodeConfig Config { get; }

    /// <summary>The layer that set <paramref name="key"/>.</summary>
    public ConfigSource SourceOf(string key) => Resolve(key).Source;

    /// <summary>The value of <paramref name="key"/>.</summary>
    public ConfigValue ValueOf(string key) => Resolve(key).Value;

    /// <summary>Where the value of <paramref name="key"/> was written (file:line:column, environment variable, ...); null for defaults.</summary>
    public string? OriginOf(string key) => Resolve(key).Origin;

    private ResolvedValue Resolve(string key) =>
        _values.TryGetValue(key, out var resolved) ? resolved : throw ConfigException.UnknownKey(key, null);

    /// <summary>
    /// The rows of <c>p2p_config()</c> in catalogue order: group (first key segment), key (the rest),
    /// value (secrets that are set show as <c>&lt;redacted&gt;</c>) and source layer.
    /// </summary>
    public IReadOnlyList<ConfigEntry> Entries()
    {
        var rows = new List<ConfigEntry>(ConfigCatalog.Keys.Length);
        foreach (var key in ConfigCatalog.Keys)
        {
            var resolved = _values[key.Key];
            var shown = resolved.Value.ToDisplayString();
            if (key.Secret && shown.Length > 0)
            {
                shown = Redacted;
            }
            rows.Add(new ConfigEntry(key.Group, key.Name, shown, resolved.Source));
        }
        return rows;
    }

    /// <summary>
    /// Applies per-call overrides (the highest layer) given as text per key, and validates the result.
    /// As in the original, a larger <c>scheduler.replicas</c> widens <c>discovery.candidate_sample_size</c>
    /// to match unless that is overridden too.
    /// </summary>
    public EffectiveConfig WithOverrides(IEnumerable<KeyValuePair<string, string>> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var layer = new Dictionary<string, ResolvedValue>(StringComparer.Ordinal);
        foreach (var (key, text) in overrides)
        {
            layer[key] = ConfigLayers.ParseText(key, text, ConfigSource.Call, "per-call override");
        }
        return WithLayer(layer);
    }

    /// <summary>Applies per-call overrides given as typed values.</summary>
    public EffectiveConfig WithOverrides(IEnumerable<KeyValuePair<string, ConfigValue>> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var layer = new Dictionary<string, ResolvedValue>(StringComparer.Ordinal);
        foreach (var (key, value) in overrides)
        {
            var descriptor = ConfigCatalog.TryGet(key, out var d) ? d : throw ConfigException.UnknownKey(key, "per-call override");
            if (!descriptor.Check(value, out var problem))
            {
                throw ConfigException.InvalidValue(key, TomlWriter.FormatValue(value.ToToml()), problem, "per-call override");
            }
            layer[key] = new ResolvedValue(value, ConfigSource.Call, "per-call override");
        }
        return WithLayer(layer);
    }

    private EffectiveConfig WithLayer(Dictionary<string, ResolvedValue> layer)
    {
        if (layer.Count == 0)
        {
            return this;
        }
        var merged = new Dictionary<string, ResolvedValue>(_values, StringComparer.Ordinal);
        foreach (var (key, value) in layer)
        {
            merged[key] = value;
        }
        const string replicas = "scheduler.replicas", sample = "discovery.candidate_sample_size";
        if (layer.TryGetValue(replicas, out var k) && !layer.ContainsKey(sample) && merged[sample].Value.AsInt < k.Value.AsInt)
        {
            merged[sample] = new ResolvedValue(ConfigValue.Int(k.Value.AsInt), ConfigSource.Call, "per-call override (widened to scheduler.replicas)");
        }
        return Build(merged);
    }

    /// <summary>Binds and validates a complete set of resolved values.</summary>
    internal static EffectiveConfig Build(Dictionary<string, ResolvedValue> values)
    {
        var frozen = values.ToFrozenDictionary(StringComparer.Ordinal);
        var reader = new ConfigReader(frozen.ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal));
        var config = NodeConfig.Bind(reader, "");
        ConfigRules.Validate(config, frozen);
        return new EffectiveConfig(frozen, config);
    }
}
