using System.Text.Json;
using Duckton.DuckDB.Native;

namespace Duckton.Extension.Tests;

/// <summary>The published extension, the Node client, and libduckdb in this process; shared by every test.</summary>
public sealed class ExtensionFixture
{
    private readonly Lazy<(ProcessResult Process, JsonElement Report)> _nodeScenario;

    public ExtensionFixture()
    {
        ExtensionPath = ExtensionBuild.EnsurePublished();
        NodeClient.EnsureInstalled();
        DuckDBNative.InitializeFromLibrary();
        _nodeScenario = new(() =>
        {
            var result = NodeClient.Run("scenario.cjs", ExtensionPath);
            Assert.True(result.ExitCode == 0, $"the Node scenario did not exit cleanly: {result}");
            return (result, NodeClient.LastJsonLine(result));
        });
    }

    public string ExtensionPath { get; }

    /// <summary>node/scenario.cjs, run once: its process result and the JSON report it printed.</summary>
    internal (ProcessResult Process, JsonElement Report) NodeScenario => _nodeScenario.Value;
}

[CollectionDefinition(Name)]
public sealed class ExtensionCollection : ICollectionFixture<ExtensionFixture>
{
    public const string Name = "extension";
}
