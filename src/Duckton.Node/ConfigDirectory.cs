using Duckton.Core.Configuration;

namespace Duckton.Node;

/// <summary>Where a node keeps its state: explicit, else <c>$P2P_CONFIG_DIR</c>, else the platform default.</summary>
public static class ConfigDirectory
{
    public static string Resolve(string? explicitDirectory, Func<string, string?>? environment = null) =>
        ConfigPaths.ResolveConfigDirectory(explicitDirectory, environment, environment?.Invoke("HOME"));
}
