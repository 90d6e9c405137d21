namespace Duckton.Core.Configuration;

/// <summary>Where configuration lives: the config directory and the files in it.</summary>
internal static class ConfigPaths
{
    /// <summary>Name of the config directory under the platform's config home.</summary>
    public const string DirectoryName = "duckdb-p2p";
    /// <summary>Overrides the config directory.</summary>
    public const string ConfigDirEnv = "P2P_CONFIG_DIR";
    /// <summary>Names a base TOML file read on top of <c>config.toml</c> (never written).</summary>
    public const string ConfigFileEnv = "P2P_CONFIG";
    /// <summary>Overrides the path of the runtime layer file.</summary>
    public const string RuntimeFileEnv = "P2P_RUNTIME_CONFIG";
    public const string ConfigFileName = "config.toml";
    public const string RuntimeFileName = "runtime.toml";

    /// <summary>
    /// The config directory: <paramref name="explicitDirectory"/> (<c>--config-dir</c>), else <c>$P2P_CONFIG_DIR</c>,
    /// else <c>$XDG_CONFIG_HOME/duckdb-p2p</c>, else (Windows) <c>%APPDATA%\duckdb-p2p</c>, else
    /// <c>~/.config/duckdb-p2p</c>, else <c>&lt;temp&gt;/duckdb-p2p</c>.
    /// </summary>
    /// <param name="explicitDirectory">An explicit choice, e.g. from <c>--config-dir</c>; null or empty to resolve.</param>
    /// <param name="environment">Reads an environment variable (tests inject their own).</param>
    /// <param name="homeDirectory">The user's home; defaults to <c>$HOME</c>, then the OS user profile.</param>
    public static string ResolveConfigDirectory(string? explicitDirectory, Func<string, string?>? environment = null, string? homeDirectory = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            return Path.GetFullPath(explicitDirectory);
        }
        if (environment(ConfigDirEnv) is { Length: > 0 } fromEnv && !string.IsNullOrWhiteSpace(fromEnv))
        {
            return Path.GetFullPath(fromEnv);
        }
        // XDG: a relative XDG_CONFIG_HOME is invalid and must be ignored.
        if (environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg && Path.IsPathFullyQualified(xdg))
        {
            return Path.Combine(xdg, DirectoryName);
        }
        if (OperatingSystem.IsWindows() && environment("APPDATA") is { Length: > 0 } appData)
        {
            return Path.Combine(appData, DirectoryName);
        }
        var home = homeDirectory;
        if (string.IsNullOrWhiteSpace(home)) home = environment("HOME");
        if (string.IsNullOrWhiteSpace(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrWhiteSpace(home))
        {
            return Path.Combine(home, ".config", DirectoryName);
        }
        return Path.Combine(Path.GetTempPath(), DirectoryName);
    }

    /// <summary>The base config file inside the config directory.</summary>
    public static string ConfigFile(string configDirectory) => Path.Combine(configDirectory, ConfigFileName);

    /// <summary>The runtime layer file: <c>$P2P_RUNTIME_CONFIG</c>, else <c>runtime.toml</c> in the config directory.</summary>
    public static string RuntimeFile(string configDirectory, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        return environment(RuntimeFileEnv) is { Length: > 0 } path && !string.IsNullOrWhiteSpace(path)
            ? Path.GetFullPath(path, configDirectory)
            : Path.Combine(configDirectory, RuntimeFileName);
    }
}
