namespace Duckton.Node;

/// <summary>
/// Where a node keeps its keys, configuration and stores (SPEC §3): an explicit directory (<c>--config-dir</c>),
/// else <c>$P2P_CONFIG_DIR</c>, else <c>$XDG_CONFIG_HOME/duckdb-p2p</c>, else <c>~/.config/duckdb-p2p</c>.
/// Resolving never creates the directory.
/// </summary>
public static class ConfigDirectory
{
    public const string EnvironmentVariable = "P2P_CONFIG_DIR";
    public const string DirectoryName = "duckdb-p2p";

    /// <summary>Resolves against this process's environment.</summary>
    public static string Resolve(string? explicitDirectory = null) => Resolve(explicitDirectory, Environment.GetEnvironmentVariable);

    /// <summary>Resolves against <paramref name="environment"/> (variable name → value or null).</summary>
    public static string Resolve(string? explicitDirectory, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            return Path.GetFullPath(explicitDirectory);
        }
        var fromEnvironment = environment(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }
        // The XDG base-directory spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
        var xdg = environment("XDG_CONFIG_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, DirectoryName);
        }
        var home = environment("HOME");
        if (string.IsNullOrWhiteSpace(home))
        {
            home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }
        return Path.Combine(home, ".config", DirectoryName);
    }
}
