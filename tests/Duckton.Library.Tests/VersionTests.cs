using System.Text.Json;

namespace Duckton.Library.Tests;

/// <summary>One version from the build: the extension's metadata footer gets the version the assemblies get.</summary>
public sealed class VersionTests
{
    [Fact]
    public void The_extension_footer_version_is_the_builds_version()
    {
        // Evaluates the extension project and runs MinVer and the hook that feeds WriteDuckDBExtension (no compile, no AOT).
        var (code, output, error) = Repo.Run("dotnet", ["msbuild", Path.Combine(Repo.Root, "src", "Duckton.Extension", "Duckton.Extension.csproj"), "-restore", "-nologo",
            "-t:MinVer", "-getProperty:DuckDBExtensionVersion", "-getProperty:MinVerVersion"], Repo.Root, TimeSpan.FromMinutes(5));
        Assert.True(code == 0, output + error);
        var json = JsonDocument.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..]).RootElement.GetProperty("Properties");
        Assert.Equal(DucktonNode.Version, json.GetProperty("MinVerVersion").GetString());
        Assert.Equal("v" + DucktonNode.Version, json.GetProperty("DuckDBExtensionVersion").GetString());
        Assert.True(("v" + DucktonNode.Version).Length <= 32, "the footer's version field holds 32 bytes");
    }
}
