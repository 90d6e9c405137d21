namespace Duckton.Core.Configuration;

/// <summary>The layer an effective value came from, lowest to highest precedence.</summary>
public enum ConfigSource
{
    /// <summary>Built-in default from the catalogue.</summary>
    Default,
    /// <summary><c>config.toml</c> in the config directory, or the file named by <c>$P2P_CONFIG</c>.</summary>
    File,
    /// <summary>An environment variable <c>P2P_*</c>.</summary>
    Env,
    /// <summary>The runtime layer written by SQL setters (<c>runtime.toml</c>).</summary>
    Runtime,
    /// <summary>A per-call override (e.g. <c>p2p_query(..., replicas =&gt; 5)</c>).</summary>
    Call,
}

/// <summary>One row of <c>p2p_config()</c>: <c>group</c>, <c>key</c>, <c>value</c> (secrets redacted) and its layer.</summary>
public readonly record struct ConfigEntry(string Group, string Key, string Value, ConfigSource Source)
{
    /// <summary>The layer as <c>p2p_config()</c> shows it: default, file, env, runtime or call.</summary>
    public string SourceName => Source.ToConfigString();
}

internal static class ConfigSourceText
{
    public static string ToConfigString(this ConfigSource source) => source switch
    {
        ConfigSource.Default => "default",
        ConfigSource.File => "file",
        ConfigSource.Env => "env",
        ConfigSource.Runtime => "runtime",
        ConfigSource.Call => "call",
        _ => throw new ArgumentOutOfRangeException(nameof(source)),
    };
}
