using System.Collections.Immutable;
using System.Globalization;
using Duckton.Core.Toml;

namespace Duckton.Core.Configuration;

/// <summary>The type of a configuration key; decides how text and TOML values are read.</summary>
public enum ConfigValueType
{
    Bool,
    Int,
    Float,
    String,
    /// <summary>One of a fixed set of words (case-insensitive on input, canonical spelling stored).</summary>
    Enum,
    StringList,
    /// <summary>A number of bytes; accepts <c>512MB</c>, <c>2GB</c>, <c>1.5GiB</c> (binary multiples) or a bare byte count.</summary>
    ByteSize,
    /// <summary>A length of time stored in the key's unit (ms or s); accepts <c>30s</c>, <c>500ms</c>, <c>2m</c>, <c>1h</c>, <c>7d</c> or a bare number in the unit.</summary>
    Duration,
}

/// <summary>The unit a <see cref="ConfigValueType.Duration"/> key stores (and its name ends with).</summary>
public enum DurationUnit
{
    Milliseconds,
    Seconds,
}

/// <summary>An immutable, typed configuration value.</summary>
public sealed class ConfigValue : IEquatable<ConfigValue>
{
    private readonly long _integer;
    private readonly double _float;
    private readonly string? _text;
    private readonly ImmutableArray<string> _list;

    private ConfigValue(ConfigValueType type, long integer = 0, double @float = 0, string? text = null, ImmutableArray<string> list = default)
    {
        Type = type;
        _integer = integer;
        _float = @float;
        _text = text;
        _list = list;
    }

    public ConfigValueType Type { get; }

    public static ConfigValue Bool(bool value) => new(ConfigValueType.Bool, integer: value ? 1 : 0);
    public static ConfigValue Int(long value) => new(ConfigValueType.Int, integer: value);
    public static ConfigValue Float(double value) => new(ConfigValueType.Float, @float: value);
    public static ConfigValue String(string value) => new(ConfigValueType.String, text: value ?? throw new ArgumentNullException(nameof(value)));
    public static ConfigValue Enum(string value) => new(ConfigValueType.Enum, text: value ?? throw new ArgumentNullException(nameof(value)));
    public static ConfigValue List(IEnumerable<string> values) => new(ConfigValueType.StringList, list: [.. values]);
    public static ConfigValue ByteSize(long bytes) => new(ConfigValueType.ByteSize, integer: bytes);
    /// <summary>A duration expressed in the owning key's unit.</summary>
    public static ConfigValue Duration(long amount) => new(ConfigValueType.Duration, integer: amount);

    public bool AsBool => Type == ConfigValueType.Bool ? _integer != 0 : throw Wrong("a boolean");

    /// <summary>The number for Int, ByteSize (bytes) and Duration (in the key's unit).</summary>
    public long AsInt => Type is ConfigValueType.Int or ConfigValueType.ByteSize or ConfigValueType.Duration ? _integer : throw Wrong("an integer");

    public double AsFloat => Type == ConfigValueType.Float ? _float : throw Wrong("a float");

    public string AsString => Type is ConfigValueType.String or ConfigValueType.Enum ? _text! : throw Wrong("a string");

    public ImmutableArray<string> AsList => Type == ConfigValueType.StringList ? _list : throw Wrong("a list");

    private InvalidOperationException Wrong(string what) => new($"configuration value of type {Type} is not {what}");

    /// <summary>The text shown by <c>p2p_config()</c>: booleans true/false, numbers invariant, lists comma+space joined.</summary>
    public string ToDisplayString() => Type switch
    {
        ConfigValueType.Bool => _integer != 0 ? "true" : "false",
        ConfigValueType.Int or ConfigValueType.ByteSize or ConfigValueType.Duration => _integer.ToString(CultureInfo.InvariantCulture),
        ConfigValueType.Float => _float.ToString("R", CultureInfo.InvariantCulture),
        ConfigValueType.StringList => string.Join(", ", _list),
        _ => _text!,
    };

    /// <summary>The value as TOML (byte sizes and durations as integers in bytes and the key's unit).</summary>
    public TomlValue ToToml() => Type switch
    {
        ConfigValueType.Bool => new TomlBoolean(_integer != 0),
        ConfigValueType.Int or ConfigValueType.ByteSize or ConfigValueType.Duration => new TomlInteger(_integer),
        ConfigValueType.Float => new TomlFloat(_float),
        ConfigValueType.StringList => new TomlArray(_list.Select(s => (TomlValue)new TomlString(s))),
        _ => new TomlString(_text!),
    };

    public bool Equals(ConfigValue? other) =>
        other is not null && other.Type == Type && other._integer == _integer && other._float.Equals(_float)
        && other._text == _text && (Type != ConfigValueType.StringList || other._list.SequenceEqual(_list));

    public override bool Equals(object? obj) => Equals(obj as ConfigValue);

    public override int GetHashCode() => HashCode.Combine(Type, _integer, _float, _text, Type == ConfigValueType.StringList ? _list.Length : 0);

    public override string ToString() => ToDisplayString();
}
