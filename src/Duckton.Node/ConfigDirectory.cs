namespace Duckton.Node;

/// <summary>Where a node keeps its state: explicit, else <c>$P2P_CONFIG_DIR</c>, else the platform default.</summary>
public static class ConfigDirectory
{
    public static string Resolve(string? explicitDirectory, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            return Path.GetFullPath(explicitDirectory);
        }
        if (environment("P2P_CONFIG_DIR") is { Length: > 0 } fromEnv)
        {
            return Path.GetFullPath(fromEnv);
        }
        if (environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg)
        {
            return Path.Combine(xdg, "duckdb-p2p");
        }
        var home = environment("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".config", "duckdb-p2p");
    }
}
