namespace Duckton.Core.Configuration;

/// <summary>
/// A configuration value, key or file is not acceptable. The message names the key, the value and what
/// is allowed, prefixed by where the value came from (file:line:column, environment variable, ...).
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException()
    {
    }

    public ConfigException(string message) : base(message)
    {
    }

    public ConfigException(string message, Exception innerException) : base(message, innerException)
    {
    }

    internal ConfigException(string message, string? key, string? value, string? origin, Exception? inner = null)
        : base(message, inner)
    {
        Key = key;
        Value = value;
        Origin = origin;
    }

    /// <summary>The key at fault, if one is.</summary>
    public string? Key { get; }

    /// <summary>The offending value as it was written, if there is one.</summary>
    public string? Value { get; }

    /// <summary>Where it came from: <c>path:line:column</c>, <c>environment variable P2P_X</c>, ...</summary>
    public string? Origin { get; }

    internal static string Prefix(string? origin) => string.IsNullOrEmpty(origin) ? "" : origin + ": ";

    /// <summary><c>key = value is invalid: problem</c>, with the origin in front.</summary>
    internal static ConfigException InvalidValue(string key, string shownValue, string problem, string? origin) =>
        new($"{Prefix(origin)}{key} = {shownValue} is invalid: {problem}", key, shownValue, origin);

    internal static ConfigException UnknownKey(string key, string? origin)
    {
        var suggestion = ConfigCatalog.Suggest(key);
        var hint = suggestion is null ? "" : $" (did you mean '{suggestion}'?)";
        return new ConfigException(
            $"{Prefix(origin)}unknown configuration key '{key}'{hint}; SELECT * FROM p2p_config() lists every key",
            key, null, origin);
    }
}
