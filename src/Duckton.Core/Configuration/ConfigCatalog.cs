using System.Collections.Frozen;
using System.Collections.Immutable;

namespace Duckton.Core.Configuration;

/// <summary>
/// Every configuration key of the node (the table lives in <c>ConfigCatalog.Keys.cs</c>), with lookups
/// by key, section and environment variable.
/// </summary>
public static partial class ConfigCatalog
{
    private const long KiB = 1024;
    private const long MiB = 1024 * KiB;
    private const long GiB = 1024 * MiB;

    /// <summary>Environment variables that locate files rather than set keys.</summary>
    public static readonly ImmutableArray<string> ReservedEnvVars =
        [ConfigPaths.ConfigFileEnv, ConfigPaths.ConfigDirEnv, ConfigPaths.RuntimeFileEnv];

    private static readonly ImmutableArray<ConfigKey> s_keys = CreateKeys();
    private static readonly FrozenDictionary<string, ConfigKey> s_byKey = s_keys.ToFrozenDictionary(k => k.Key, StringComparer.Ordinal);
    private static readonly FrozenSet<string> s_sections = s_keys
        .SelectMany(k => Prefixes(k.Key))
        .ToFrozenSet(StringComparer.Ordinal);
    private static readonly FrozenDictionary<string, ConfigValue> s_defaults = s_keys.ToFrozenDictionary(k => k.Key, k => k.Default, StringComparer.Ordinal);

    /// <summary>All keys, in documentation order (section by section).</summary>
    public static ImmutableArray<ConfigKey> Keys => s_keys;

    /// <summary>Section paths (<c>scheduler</c>, <c>trust.weights</c>, ...) in documentation order.</summary>
    public static ImmutableArray<string> Sections { get; } = [.. s_keys.Select(k => k.Key[..k.Key.LastIndexOf('.')]).Distinct()];

    /// <summary>Built-in defaults of every key.</summary>
    public static IReadOnlyDictionary<string, ConfigValue> Defaults => s_defaults;

    public static bool TryGet(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ConfigKey? descriptor)
        => s_byKey.TryGetValue(key, out descriptor);

    public static ConfigKey Get(string key) =>
        s_byKey.TryGetValue(key, out var descriptor) ? descriptor : throw ConfigException.UnknownKey(key, null);

    /// <summary>True when <paramref name="path"/> is a section (some key lies below it), e.g. <c>trust</c> or <c>trust.weights</c>.</summary>
    public static bool IsSection(string path) => s_sections.Contains(path);

    private static IEnumerable<string> Prefixes(string key)
    {
        for (var i = key.IndexOf('.', StringComparison.Ordinal); i >= 0; i = key.IndexOf('.', i + 1))
        {
            yield return key[..i];
        }
    }

    /// <summary>The known key closest to a misspelt one, if any is close.</summary>
    public static string? Suggest(string unknown)
    {
        ArgumentNullException.ThrowIfNull(unknown);
        var lower = unknown.ToLowerInvariant();
        if (s_byKey.ContainsKey(lower)) return lower;
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var key in s_keys)
        {
            var d = Distance(lower, key.Key);
            // Same leaf under another section ("replicas" for "scheduler.replicas") is a good guess too.
            if (key.Key.EndsWith("." + lower, StringComparison.Ordinal)) d = Math.Min(d, 1);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = key.Key;
            }
        }
        return bestDistance <= Math.Max(2, unknown.Length / 4) ? best : null;
    }

    /// <summary>The candidate closest to <paramref name="text"/> when it is close enough to be a typo, else null.</summary>
    internal static string? Closest(string text, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var d = Distance(text, candidate);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = candidate;
            }
        }
        return bestDistance <= Math.Max(2, text.Length / 4) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    // ---- descriptor factories used by the table ----

    private static ImmutableArray<string> EnvNames(string key, string[]? extra)
    {
        var canonical = "P2P_" + key.Replace('.', '_').ToUpperInvariant();
        return [.. new[] { canonical }.Concat(extra ?? []).Distinct(StringComparer.Ordinal)];
    }

    private static ConfigKey Bool(string key, bool @default, string meaning, string[]? env = null) =>
        new(key, ConfigValueType.Bool, ConfigValue.Bool(@default), meaning) { EnvVars = EnvNames(key, env) };

    /// <param name="allowedText">Describes the range when another key bounds it (checked by <see cref="ConfigRules"/>).</param>
    private static ConfigKey Int(string key, long @default, long min, long max, string meaning, string? allowedText = null, string[]? env = null) =>
        new(key, ConfigValueType.Int, ConfigValue.Int(@default), meaning)
        {
            EnvVars = EnvNames(key, env),
            MinInt = min,
            MaxInt = max,
            AllowedOverride = allowedText,
        };

    private static ConfigKey Float(string key, double @default, double min, double max, string meaning,
        bool minExclusive = false, bool maxExclusive = false, string[]? env = null) =>
        new(key, ConfigValueType.Float, ConfigValue.Float(@default), meaning)
        {
            EnvVars = EnvNames(key, env),
            MinFloat = min,
            MaxFloat = max,
            MinExclusive = minExclusive,
            MaxExclusive = maxExclusive,
        };

    /// <summary>A string key; an empty default makes it optional (empty = not set).</summary>
    private static ConfigKey Text(string key, string @default, string meaning, StringRule rule = StringRule.Any,
        bool secret = false, string[]? env = null) =>
        new(key, ConfigValueType.String, ConfigValue.String(@default), meaning)
        {
            EnvVars = EnvNames(key, env),
            Rule = rule,
            Secret = secret,
            Optional = @default.Length == 0,
        };

    /// <summary>An enum key whose values are text only (no C# enum: a single allowed word so far).</summary>
    private static ConfigKey Choice(string key, string @default, string[] values, string meaning, string[]? aliases = null, string[]? env = null) =>
        new(key, ConfigValueType.Enum, ConfigValue.Enum(@default), meaning)
        {
            EnvVars = EnvNames(key, env),
            AllowedValues = [.. values],
            Aliases = Aliases(aliases),
        };

    /// <summary>
    /// An enum key typed <typeparamref name="T"/>: its words are <typeparamref name="T"/>'s spellings (<see cref="ConfigEnum"/>);
    /// <paramref name="aliases"/> are <c>alias=canonical</c> pairs.
    /// </summary>
    private static ConfigKey Choice<T>(string key, T @default, string meaning, string[]? aliases = null, string[]? env = null)
        where T : struct, Enum =>
        new(key, ConfigValueType.Enum, ConfigValue.Enum(@default.ToConfigString()), meaning)
        {
            EnvVars = EnvNames(key, env),
            AllowedValues = ConfigEnum.Spellings<T>(),
            Aliases = Aliases(aliases),
            EnumType = typeof(T),
        };

    /// <summary>A list whose elements are <typeparamref name="T"/>'s spellings.</summary>
    private static ConfigKey EnumList<T>(string key, T[] @default, string meaning, int minCount = 0, string[]? env = null)
        where T : struct, Enum =>
        new(key, ConfigValueType.StringList, ConfigValue.List([.. @default.Select(v => v.ToConfigString())]), meaning)
        {
            EnvVars = EnvNames(key, env),
            AllowedValues = ConfigEnum.Spellings<T>(),
            MinCount = minCount,
            EnumType = typeof(T),
        };

    private static ImmutableDictionary<string, string> Aliases(string[]? pairs) =>
        (pairs ?? []).Select(a => a.Split('=', 2)).ToImmutableDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);

    private static ConfigKey List(string key, string[] @default, string meaning, StringRule rule = StringRule.Any,
        string[]? allowed = null, int minCount = 0, string[]? env = null) =>
        new(key, ConfigValueType.StringList, ConfigValue.List(@default), meaning)
        {
            EnvVars = EnvNames(key, env),
            Rule = rule,
            AllowedValues = [.. allowed ?? []],
            MinCount = minCount,
        };

    private static ConfigKey Bytes(string key, long @default, long min, long max, string meaning, string[]? env = null) =>
        new(key, ConfigValueType.ByteSize, ConfigValue.ByteSize(@default), meaning) { EnvVars = EnvNames(key, env), MinInt = min, MaxInt = max };

    // Durations are capped at int.MaxValue units so every value converts to a TimeSpan.
    private static ConfigKey Millis(string key, long @default, long min, string meaning, string[]? env = null) =>
        new(key, ConfigValueType.Duration, ConfigValue.Duration(@default), meaning)
        {
            EnvVars = EnvNames(key, env),
            MinInt = min,
            MaxInt = int.MaxValue,
            Unit = DurationUnit.Milliseconds,
        };

    /// <param name="property">The typed property's name when the key's name does not make a good one.</param>
    private static ConfigKey Seconds(string key, long @default, long min, string meaning, string[]? env = null, string? property = null) =>
        new(key, ConfigValueType.Duration, ConfigValue.Duration(@default), meaning)
        {
            PropertyOverride = property,
            EnvVars = EnvNames(key, env),
            MinInt = min,
            MaxInt = int.MaxValue,
            Unit = DurationUnit.Seconds,
        };
}
