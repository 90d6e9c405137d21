using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Duckton.Core.Toml;

namespace Duckton.Core.Configuration;

/// <summary>Shape rules for string values and list elements.</summary>
public enum StringRule
{
    Any,
    NonBlank,
    /// <summary><c>major.minor.patch</c>, each 0..65535.</summary>
    Semver,
    /// <summary><c>host:port</c> (IPv6 as <c>[::1]:9494</c>), port 0..65535.</summary>
    SocketAddress,
    /// <summary><c>host:port</c> with a port 1..65535 (something one can connect to).</summary>
    PeerAddress,
    /// <summary><c>b3:</c> followed by 64 lower-case hex digits.</summary>
    NodeId,
    /// <summary><c>name=&lt;64 hex digits&gt;</c>: a name and an Ed25519 public key.</summary>
    IssuerEntry,
    /// <summary>An absolute file system path without <c>..</c> parts.</summary>
    AbsolutePath,
    /// <summary>An <c>http://</c> or <c>https://</c> URL.</summary>
    HttpUrl,
    /// <summary>An Ed25519 public key: 64 hex digits.</summary>
    Ed25519PublicKey,
    /// <summary><c>L1:&lt;hex&gt;</c> or <c>L2:&lt;hex&gt;</c>: an allowlisted attestation measurement of that tier.</summary>
    MeasurementEntry,
    /// <summary>Empty, or signed membership tokens (<c>dkt1.…</c>) separated by spaces or commas, at most 8.</summary>
    MembershipTokens,
}

/// <summary>
/// One configuration key: its dotted name, type, default, allowed values, environment variables,
/// secrecy and meaning. The catalogue of these (<see cref="ConfigCatalog"/>) is the single source
/// for parsing, validation, <c>p2p_config()</c>, the example file and docs/CONFIGURATION.md.
/// </summary>
public sealed class ConfigKey
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    internal ConfigKey(string key, ConfigValueType type, ConfigValue defaultValue, string meaning)
    {
        Key = key;
        Type = type;
        Default = defaultValue;
        Meaning = meaning;
        var dot = key.IndexOf('.', StringComparison.Ordinal);
        Group = key[..dot];
        Name = key[(dot + 1)..];
    }

    /// <summary>Full dotted key, e.g. <c>scheduler.replicas</c>.</summary>
    public string Key { get; }
    /// <summary>First segment (the <c>group</c> column of <c>p2p_config()</c>).</summary>
    public string Group { get; }
    /// <summary>Everything after the group (the <c>key</c> column of <c>p2p_config()</c>).</summary>
    public string Name { get; }
    public ConfigValueType Type { get; }
    public ConfigValue Default { get; }
    /// <summary>One line: what the key does.</summary>
    public string Meaning { get; }
    /// <summary>False for a key of a feature still being built: accepted and validated, but no code reads it yet (the
    /// documentation and <c>p2p_config()</c> say so).</summary>
    public bool InEffect => !ConfigCatalog.NotYetInEffect.Contains(Key);
    /// <summary>Environment variables read for this key; the first is <c>P2P_</c> + the key upper-cased with dots as underscores, the rest are the original's names.</summary>
    public ImmutableArray<string> EnvVars { get; internal init; } = [];
    /// <summary>Shown as <c>&lt;redacted&gt;</c> by <c>p2p_config()</c> when set.</summary>
    public bool Secret { get; internal init; }
    /// <summary>Enum words, or the words a list may contain; empty when anything goes.</summary>
    public ImmutableArray<string> AllowedValues { get; internal init; } = [];
    /// <summary>Extra accepted spellings of enum words, <c>alias → canonical</c>.</summary>
    public ImmutableDictionary<string, string> Aliases { get; internal init; } = ImmutableDictionary<string, string>.Empty;
    public long MinInt { get; internal init; } = long.MinValue;
    public long MaxInt { get; internal init; } = long.MaxValue;
    public double MinFloat { get; internal init; } = double.NegativeInfinity;
    public double MaxFloat { get; internal init; } = double.PositiveInfinity;
    public bool MinExclusive { get; internal init; }
    public bool MaxExclusive { get; internal init; }
    /// <summary>Rule for a string value, or for each element of a list.</summary>
    public StringRule Rule { get; internal init; }
    /// <summary>Fewest elements a list must have.</summary>
    public int MinCount { get; internal init; }
    /// <summary>For strings: the empty string means "not set" and is always accepted.</summary>
    public bool Optional { get; internal init; }
    public DurationUnit Unit { get; internal init; }
    /// <summary>The C# enum of an enum key (or of a list's elements); null when the words are text only.</summary>
    public Type? EnumType { get; internal init; }
    /// <summary>The property name in <see cref="NodeConfig"/> when it is not the key's last segment in PascalCase.</summary>
    internal string? PropertyOverride { get; init; }
    /// <summary>Replaces the computed range text when another key bounds this one.</summary>
    internal string? AllowedOverride { get; init; }

    /// <summary>The allowed range or values in words, for errors and docs ("1..64", "quorum | fast", ...).</summary>
    public string AllowedDescription => AllowedOverride ?? Type switch
    {
        ConfigValueType.Bool => "true | false",
        ConfigValueType.Int => RangeText(MinInt, MaxInt, ""),
        ConfigValueType.ByteSize => RangeText(MinInt, MaxInt, " bytes"),
        ConfigValueType.Duration => RangeText(MinInt, MaxInt, Unit == DurationUnit.Milliseconds ? " ms" : " s"),
        ConfigValueType.Float => FloatRangeText(),
        ConfigValueType.Enum => string.Join(" | ", AllowedValues),
        ConfigValueType.StringList => ListText(),
        _ => (Optional ? "empty (unset) or " : "") + RuleText(Rule),
    };

    private static string RangeText(long min, long max, string unit)
    {
        if (max == long.MaxValue || max == int.MaxValue) return $"≥ {min.ToString(s_inv)}{unit}";
        return $"{min.ToString(s_inv)}..{max.ToString(s_inv)}{unit}";
    }

    private string FloatRangeText()
    {
        var hasMin = !double.IsNegativeInfinity(MinFloat);
        var hasMax = !double.IsPositiveInfinity(MaxFloat);
        var min = MinFloat.ToString("R", s_inv);
        var max = MaxFloat.ToString("R", s_inv);
        return (hasMin, hasMax) switch
        {
            (true, true) => $"{min} {(MinExclusive ? "<" : "≤")} x {(MaxExclusive ? "<" : "≤")} {max}",
            (true, false) => $"{(MinExclusive ? ">" : "≥")} {min}",
            (false, true) => $"{(MaxExclusive ? "<" : "≤")} {max}",
            _ => "any number",
        };
    }

    private string ListText()
    {
        var each = AllowedValues.Length > 0 ? "each one of " + string.Join(" | ", AllowedValues) : "each " + RuleText(Rule);
        return MinCount > 0 ? $"{each}; at least {MinCount}" : each;
    }

    internal static string RuleText(StringRule rule) => rule switch
    {
        StringRule.NonBlank => "non-blank text",
        StringRule.Semver => "major.minor.patch",
        StringRule.SocketAddress => "host:port",
        StringRule.PeerAddress => "host:port (port 1..65535)",
        StringRule.NodeId => "b3:<64 lower-case hex>",
        StringRule.IssuerEntry => "name=<64 hex ed25519 key>",
        StringRule.AbsolutePath => "absolute path",
        StringRule.HttpUrl => "http(s) URL",
        StringRule.Ed25519PublicKey => "<64 hex ed25519 public key>",
        StringRule.MeasurementEntry => "L1:<hex> or L2:<hex> (even number of hex digits)",
        StringRule.MembershipTokens => "dkt1.<token> ... (duckton token issue), at most 8",
        _ => "any text",
    };

    /// <summary>What a value of this key looks like, for "expected ..." errors.</summary>
    public string ExpectedDescription => Type switch
    {
        ConfigValueType.Bool => "a boolean (true or false)",
        ConfigValueType.Int => "an integer",
        ConfigValueType.Float => "a number",
        ConfigValueType.String => "a string",
        ConfigValueType.Enum => "one of " + string.Join(", ", AllowedValues),
        ConfigValueType.StringList => "a list of strings (TOML array, or comma-separated text)",
        ConfigValueType.ByteSize => "a byte size such as 512MB, 2GB or a number of bytes",
        ConfigValueType.Duration => Unit == DurationUnit.Milliseconds
            ? "a duration such as 500ms, 30s, 2m or a number of milliseconds"
            : "a duration such as 30s, 15m, 7d or a number of seconds",
        _ => Type.ToString(),
    };

    /// <summary>Reads a value from text (SQL setters, environment variables, per-call overrides).</summary>
    public bool TryParse(string text, out ConfigValue value, out string problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        value = Default;
        problem = "";
        var trimmed = text.Trim();
        switch (Type)
        {
            case ConfigValueType.Bool:
                switch (trimmed.ToLowerInvariant())
                {
                    case "true" or "1" or "yes" or "on": value = ConfigValue.Bool(true); break;
                    case "false" or "0" or "no" or "off": value = ConfigValue.Bool(false); break;
                    default: problem = "expected " + ExpectedDescription; return false;
                }
                break;
            case ConfigValueType.Int:
                if (!long.TryParse(trimmed.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, s_inv, out var integer))
                {
                    problem = "expected " + ExpectedDescription;
                    return false;
                }
                value = ConfigValue.Int(integer);
                break;
            case ConfigValueType.Float:
                if (!double.TryParse(trimmed, NumberStyles.Float, s_inv, out var number) || !double.IsFinite(number))
                {
                    problem = "expected " + ExpectedDescription;
                    return false;
                }
                value = ConfigValue.Float(number);
                break;
            case ConfigValueType.String:
                value = ConfigValue.String(text);
                break;
            case ConfigValueType.Enum:
                if (!TryEnum(trimmed, out var word))
                {
                    problem = ConfigEnum.OneOf(AllowedValues, trimmed);
                    return false;
                }
                value = ConfigValue.Enum(word);
                break;
            case ConfigValueType.StringList:
                if (trimmed.StartsWith('['))
                {
                    // A TOML array literal, e.g. p2p_set('discovery.bootstrap', '["a:1", "b:2"]').
                    TomlTable doc;
                    try
                    {
                        doc = TomlParser.Parse("v = " + trimmed);
                    }
                    catch (TomlException e)
                    {
                        problem = "expected " + ExpectedDescription + " (" + e.Problem + ")";
                        return false;
                    }
                    return TryFromToml(doc["v"], out value, out problem);
                }
                value = ConfigValue.List(SplitList(text));
                break;
            case ConfigValueType.ByteSize:
                if (!TryParseByteSize(trimmed, out var bytes))
                {
                    problem = "expected " + ExpectedDescription;
                    return false;
                }
                value = ConfigValue.ByteSize(bytes);
                break;
            case ConfigValueType.Duration:
                if (!TryParseDuration(trimmed, Unit, out var amount, out var durationProblem))
                {
                    problem = durationProblem ?? "expected " + ExpectedDescription;
                    return false;
                }
                value = ConfigValue.Duration(amount);
                break;
        }
        return Check(value, out problem);
    }

    /// <summary>Reads a value from a TOML document (config file, runtime layer).</summary>
    public bool TryFromToml(TomlValue toml, out ConfigValue value, out string problem)
    {
        ArgumentNullException.ThrowIfNull(toml);
        value = Default;
        problem = "";
        switch (Type, toml)
        {
            case (ConfigValueType.Bool, TomlBoolean b):
                value = ConfigValue.Bool(b.Value);
                break;
            case (ConfigValueType.Int, TomlInteger i):
                value = ConfigValue.Int(i.Value);
                break;
            case (ConfigValueType.Float, TomlFloat f):
                if (!double.IsFinite(f.Value))
                {
                    problem = "expected a finite number";
                    return false;
                }
                value = ConfigValue.Float(f.Value);
                break;
            case (ConfigValueType.Float, TomlInteger i):
                value = ConfigValue.Float(i.Value);
                break;
            case (ConfigValueType.String, TomlString s):
                value = ConfigValue.String(s.Value);
                break;
            case (ConfigValueType.Enum, TomlString s):
                return TryParse(s.Value, out value, out problem);
            case (ConfigValueType.StringList, TomlArray array):
                var items = new List<string>(array.Count);
                foreach (var item in array)
                {
                    if (item is not TomlString s)
                    {
                        problem = $"expected a list of strings, found {item.KindName} element {TomlWriter.FormatValue(item)}";
                        return false;
                    }
                    items.Add(s.Value);
                }
                value = ConfigValue.List(items);
                break;
            case (ConfigValueType.ByteSize, TomlInteger i):
                value = ConfigValue.ByteSize(i.Value);
                break;
            case (ConfigValueType.ByteSize or ConfigValueType.Duration, TomlString s):
                return TryParse(s.Value, out value, out problem);
            case (ConfigValueType.Duration, TomlInteger i):
                value = ConfigValue.Duration(i.Value);
                break;
            default:
                problem = $"expected {ExpectedDescription}, found {(toml is TomlArray { IsArrayOfTables: true } ? "an array of tables" : "a " + toml.KindName)}";
                return false;
        }
        return Check(value, out problem);
    }

    /// <summary>Checks a typed value against this key's range, allowed values and shape rule.</summary>
    public bool Check(ConfigValue value, out string problem)
    {
        ArgumentNullException.ThrowIfNull(value);
        problem = "";
        if (value.Type != Type)
        {
            problem = "expected " + ExpectedDescription;
            return false;
        }
        switch (Type)
        {
            case ConfigValueType.Int or ConfigValueType.ByteSize or ConfigValueType.Duration:
                var n = value.AsInt;
                if (n < MinInt || n > MaxInt)
                {
                    problem = MaxInt is long.MaxValue or int.MaxValue
                        ? $"must be at least {MinInt.ToString(s_inv)}{UnitSuffix()}"
                        : $"must be between {MinInt.ToString(s_inv)} and {MaxInt.ToString(s_inv)}{UnitSuffix()}";
                    return false;
                }
                break;
            case ConfigValueType.Float:
                var x = value.AsFloat;
                if (x < MinFloat || x > MaxFloat || (MinExclusive && x == MinFloat) || (MaxExclusive && x == MaxFloat))
                {
                    problem = "must be " + FloatRangeText();
                    return false;
                }
                break;
            case ConfigValueType.Enum:
                if (!AllowedValues.Contains(value.AsString))
                {
                    problem = "must be one of " + string.Join(", ", AllowedValues);
                    return false;
                }
                break;
            case ConfigValueType.String:
                var s = value.AsString;
                if (!(Optional && s.Length == 0) && !TryRule(Rule, s, out var why))
                {
                    problem = why;
                    return false;
                }
                break;
            case ConfigValueType.StringList:
                var list = value.AsList;
                if (list.Length < MinCount)
                {
                    problem = $"needs at least {MinCount} element{(MinCount == 1 ? "" : "s")}";
                    return false;
                }
                foreach (var element in list)
                {
                    if (AllowedValues.Length > 0 && !AllowedValues.Contains(element))
                    {
                        problem = $"element \"{element}\" must be one of {string.Join(", ", AllowedValues)}";
                        return false;
                    }
                    if (!TryRule(Rule, element, out var elementProblem))
                    {
                        problem = $"element \"{element}\": {elementProblem}";
                        return false;
                    }
                }
                break;
        }
        return true;
    }

    private string UnitSuffix() => Type switch
    {
        ConfigValueType.ByteSize => MinInt == 1 && MaxInt == long.MaxValue ? " byte" : " bytes",
        ConfigValueType.Duration => Unit == DurationUnit.Milliseconds ? " ms" : " s",
        _ => "",
    };

    private bool TryEnum(string text, out string word)
    {
        foreach (var allowed in AllowedValues)
        {
            if (string.Equals(allowed, text, StringComparison.OrdinalIgnoreCase))
            {
                word = allowed;
                return true;
            }
        }
        foreach (var (alias, canonical) in Aliases)
        {
            if (string.Equals(alias, text, StringComparison.OrdinalIgnoreCase))
            {
                word = canonical;
                return true;
            }
        }
        word = "";
        return false;
    }

    /// <summary>Splits comma-separated text, trimming items and skipping empty ones.</summary>
    public static ImmutableArray<string> SplitList(string text) =>
        [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>
    /// Parses <c>2GB</c>, <c>512 MiB</c>, <c>1.5g</c>, <c>4096</c>. K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB are all
    /// binary multiples (1024), as in the original duckton and its <c>p2p_share(memory =&gt; ...)</c>.
    /// </summary>
    public static bool TryParseByteSize(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim();
        var split = 0;
        while (split < s.Length && (char.IsAsciiDigit(s[split]) || s[split] is '.' or '_'))
        {
            split++;
        }
        var numberText = s[..split].Replace("_", "", StringComparison.Ordinal);
        var unit = s[split..].Trim().ToLowerInvariant();
        if (numberText.Length == 0 || !decimal.TryParse(numberText, NumberStyles.AllowDecimalPoint, s_inv, out var number))
        {
            return false;
        }
        decimal multiplier = unit switch
        {
            "" or "b" => 1m,
            "k" or "kb" or "kib" => 1024m,
            "m" or "mb" or "mib" => 1024m * 1024,
            "g" or "gb" or "gib" => 1024m * 1024 * 1024,
            "t" or "tb" or "tib" => 1024m * 1024 * 1024 * 1024,
            _ => -1m,
        };
        if (multiplier < 0)
        {
            return false;
        }
        var total = decimal.Floor(number * multiplier);
        if (total > long.MaxValue)
        {
            return false;
        }
        bytes = (long)total;
        return true;
    }

    /// <summary>Parses <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>, <c>7d</c>, or a bare number in <paramref name="unit"/>.</summary>
    public static bool TryParseDuration(string text, DurationUnit unit, out long amount, out string? problem)
    {
        amount = 0;
        problem = null;
        var s = text.Trim().Replace("_", "", StringComparison.Ordinal);
        var split = 0;
        while (split < s.Length && (char.IsAsciiDigit(s[split]) || s[split] == '.'))
        {
            split++;
        }
        if (split == 0 || !decimal.TryParse(s[..split], NumberStyles.AllowDecimalPoint, s_inv, out var number))
        {
            return false;
        }
        decimal? millisPer = s[split..].Trim().ToLowerInvariant() switch
        {
            "" => unit == DurationUnit.Milliseconds ? 1m : 1000m,
            "ms" => 1m,
            "s" or "sec" or "secs" => 1000m,
            "m" or "min" or "mins" => 60_000m,
            "h" => 3_600_000m,
            "d" => 86_400_000m,
            _ => null,
        };
        if (millisPer is null)
        {
            return false;
        }
        var millis = number * millisPer.Value;
        var inUnit = unit == DurationUnit.Milliseconds ? millis : millis / 1000m;
        if (inUnit != decimal.Truncate(inUnit))
        {
            problem = unit == DurationUnit.Milliseconds ? "must be a whole number of milliseconds" : "must be a whole number of seconds";
            return false;
        }
        if (inUnit > long.MaxValue)
        {
            return false;
        }
        amount = (long)inUnit;
        return true;
    }

    /// <summary>Checks one string against a shape rule.</summary>
    public static bool TryRule(StringRule rule, string s, out string problem)
    {
        problem = "";
        var ok = rule switch
        {
            StringRule.Any => true,
            StringRule.NonBlank => !string.IsNullOrWhiteSpace(s),
            StringRule.Semver => IsSemver(s),
            StringRule.SocketAddress => IsHostPort(s, minPort: 0),
            StringRule.PeerAddress => IsHostPort(s, minPort: 1),
            StringRule.NodeId => s.Length == 67 && s.StartsWith("b3:", StringComparison.Ordinal) && IsLowerHex(s.AsSpan(3)),
            StringRule.IssuerEntry => s.IndexOf('=', StringComparison.Ordinal) is > 0 and var eq
                && s.Length - eq - 1 == 64 && IsHex(s.AsSpan(eq + 1)) && !string.IsNullOrWhiteSpace(s[..eq]),
            StringRule.AbsolutePath => Path.IsPathFullyQualified(s)
                && !s.Split('/', '\\').Contains(".."),
            StringRule.HttpUrl => Uri.TryCreate(s, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps),
            StringRule.Ed25519PublicKey => s.Length == 64 && IsHex(s),
            StringRule.MeasurementEntry => Duckton.Core.Trust.AttestationVerifier.TryParseMeasurement(s, out _, out _),
            StringRule.MembershipTokens => ParsesAsTokens(s),
            _ => true,
        };
        if (!ok)
        {
            problem = "expected " + RuleText(rule);
        }
        return ok;
    }

    private static bool IsSemver(string s)
    {
        var parts = s.Split('.');
        return parts.Length == 3 && parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit)
            && ushort.TryParse(p, NumberStyles.None, s_inv, out _));
    }

    private static bool IsHostPort(string s, int minPort)
    {
        string host;
        string port;
        if (s.StartsWith('['))
        {
            var close = s.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= s.Length || s[close + 1] != ':') return false;
            host = s[1..close];
            port = s[(close + 2)..];
            if (!System.Net.IPAddress.TryParse(host, out _)) return false;
        }
        else
        {
            var colon = s.LastIndexOf(':');
            if (colon <= 0 || s.IndexOf(':', StringComparison.Ordinal) != colon) return false;
            host = s[..colon];
            port = s[(colon + 1)..];
            if (!host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')) return false;
        }
        return port.Length is > 0 and <= 5 && port.All(char.IsAsciiDigit)
            && int.Parse(port, s_inv) is var p && p >= minPort && p <= 65535;
    }

    private static bool IsLowerHex(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!(char.IsAsciiDigit(c) || c is >= 'a' and <= 'f')) return false;
        }
        return s.Length > 0;
    }

    private static bool ParsesAsTokens(string s)
    {
        try
        {
            _ = Duckton.Core.Protocol.MembershipToken.ParseList(s);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiHexDigit(c)) return false;
        }
        return s.Length > 0;
    }

    /// <summary>The default as it is written in TOML and docs (byte sizes and durations also in words).</summary>
    public string DefaultDocText()
    {
        var toml = TomlWriter.FormatValue(Default.ToToml());
        return Type switch
        {
            ConfigValueType.ByteSize when Default.AsInt >= 1024 => $"{toml} ({FormatBytes(Default.AsInt)})",
            ConfigValueType.Duration when Default.AsInt > 0 => $"{toml} ({FormatDuration(Default.AsInt, Unit)})",
            _ => toml,
        };
    }

    internal static string FormatBytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        var i = 0;
        decimal v = bytes;
        while (i < units.Length - 1 && v >= 1024 && v % 1024 == 0)
        {
            v /= 1024;
            i++;
        }
        return $"{v.ToString(s_inv)} {units[i]}";
    }

    internal static string FormatDuration(long amount, DurationUnit unit)
    {
        var ms = unit == DurationUnit.Milliseconds ? amount : amount * 1000;
        var sb = new StringBuilder();
        (long size, string name)[] steps = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "min"), (1000, "s"), (1, "ms")];
        foreach (var (size, name) in steps)
        {
            if (ms % size == 0)
            {
                return sb.Append((ms / size).ToString(s_inv)).Append(' ').Append(name).ToString();
            }
        }
        return ms.ToString(s_inv) + " ms";
    }

    public override string ToString() => Key;
}
