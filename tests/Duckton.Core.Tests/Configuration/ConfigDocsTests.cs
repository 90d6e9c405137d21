using Duckton.Core.Configuration;

namespace Duckton.Core.Tests.Configuration;

/// <summary>
/// docs/CONFIGURATION.md, config/duckton.example.toml and the typed configuration (NodeConfig.g.cs) are generated
/// from the catalogue. Run the tests with DUCKTON_REGENERATE_DOCS=1 to rewrite them after changing a key.
/// </summary>
public class ConfigDocsTests
{
    private const string Begin = "<!-- BEGIN KEY TABLES (generated from ConfigCatalog; DUCKTON_REGENERATE_DOCS=1 dotnet test rewrites) -->";
    private const string End = "<!-- END KEY TABLES -->";
    private static bool Regenerate => Environment.GetEnvironmentVariable("DUCKTON_REGENERATE_DOCS") == "1";

    [Fact]
    public void Configuration_doc_lists_every_catalogue_key()
    {
        var path = Path.Combine(RepoPaths.Root, "docs", "CONFIGURATION.md");
        var doc = File.ReadAllText(path);
        var begin = doc.IndexOf(Begin, StringComparison.Ordinal);
        var end = doc.IndexOf(End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, "docs/CONFIGURATION.md lacks the generated-table markers");
        var generated = "\n" + ConfigDocs.KeyTables();
        var current = doc[(begin + Begin.Length)..end];
        if (Regenerate && current != generated)
        {
            File.WriteAllText(path, doc[..(begin + Begin.Length)] + generated + doc[end..]);
            doc = File.ReadAllText(path);
            current = generated;
        }
        foreach (var key in ConfigCatalog.Keys)
        {
            Assert.Contains($"| `{key.Key}` |", doc, StringComparison.Ordinal);
            Assert.Contains($"`{key.EnvVars[0]}`", doc, StringComparison.Ordinal);
        }
        Assert.True(current == generated, "docs/CONFIGURATION.md key tables are out of date: run DUCKTON_REGENERATE_DOCS=1 dotnet test");
    }

    [Fact]
    public void Example_file_is_the_catalogue_rendering()
    {
        var path = Path.Combine(RepoPaths.Root, "config", "duckton.example.toml");
        var generated = ConfigDocs.ExampleToml();
        if (Regenerate && (!File.Exists(path) || File.ReadAllText(path) != generated))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, generated);
        }
        Assert.True(File.ReadAllText(path) == generated, "config/duckton.example.toml is out of date: run DUCKTON_REGENERATE_DOCS=1 dotnet test");
        foreach (var section in ConfigCatalog.Sections)
        {
            Assert.Contains($"\n[{section}]\n", generated, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Typed_configuration_is_the_catalogue_rendering()
    {
        var path = Path.Combine(RepoPaths.Root, "src", "Duckton.Core", "Configuration", "NodeConfig.g.cs");
        var generated = NodeConfigSource.Generate();
        if (Regenerate && File.ReadAllText(path) != generated)
        {
            File.WriteAllText(path, generated);
        }
        Assert.True(File.ReadAllText(path) == generated,
            "NodeConfig.g.cs is out of date with ConfigCatalog.Keys.cs: run DUCKTON_REGENERATE_DOCS=1 dotnet test (then rebuild)");
        // Every key is documented on its property, as written in the catalogue (no copied summary to drift).
        foreach (var key in ConfigCatalog.Keys.Where(k => !k.Key.StartsWith("economics.testnet", StringComparison.Ordinal) && !k.Key.StartsWith("economics.mainnet.", StringComparison.Ordinal)
            && !k.Key.StartsWith("economics.local.", StringComparison.Ordinal)))
        {
            Assert.Contains($"(<c>{key.Key}</c>)</summary>", generated, StringComparison.Ordinal);
        }
    }
}
