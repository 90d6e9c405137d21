using System.Text.Json;

namespace Duckton.Extension.Tests;

/// <summary>The DuckDB Node client (@duckdb/node-api, pinned in node/package-lock.json), installed under .cache/node.</summary>
internal static class NodeClient
{
    public static string ScriptDirectory => Path.Combine(ExtensionBuild.RepoRoot, "tests", "Duckton.Extension.Tests", "node");

    public static string InstallDirectory => Path.Combine(ExtensionBuild.RepoRoot, ".cache", "node");

    public static void EnsureInstalled()
    {
        var result = ProcessRunner.Run("bash", [Path.Combine(ScriptDirectory, "install.sh"), InstallDirectory],
            ExtensionBuild.RepoRoot, null, TimeSpan.FromMinutes(5));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"installing the DuckDB Node client failed: {result}");
        }
    }

    /// <summary>Runs <c>node/&lt;script&gt;</c> with the client on its module path.</summary>
    public static ProcessResult Run(string script, params string[] arguments) => Run(script, arguments, new Dictionary<string, string?>());

    /// <summary>Runs <c>node/&lt;script&gt;</c> with the client on its module path and extra environment variables.</summary>
    public static ProcessResult Run(string script, string[] arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var env = new Dictionary<string, string?>(environment) { ["NODE_PATH"] = Path.Combine(InstallDirectory, "node_modules") };
        return ProcessRunner.Run("node", [Path.Combine(ScriptDirectory, script), .. arguments], ExtensionBuild.RepoRoot, env, TimeSpan.FromMinutes(2));
    }

    /// <summary>The last stdout line of a script that reports one JSON object.</summary>
    public static JsonElement LastJsonLine(ProcessResult result)
    {
        var line = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()
            ?? throw new InvalidOperationException($"the script printed nothing: {result}");
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.Clone();
    }
}
