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
        var version = json.GetProperty("MinVerVersion").GetString()!;
        Assert.Equal("v" + version, json.GetProperty("DuckDBExtensionVersion").GetString());
        Assert.True(("v" + version).Length <= 32, "the footer's version field holds 32 bytes");
        Assert.Matches(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$", version);

        // The version moves with every commit: when this test assembly was built from the commit checked out now,
        // the library it tests carries exactly the extension's version.
        var informational = typeof(DucktonNode).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;
        var head = Repo.Run("git", ["rev-parse", "HEAD"], Repo.Root, TimeSpan.FromMinutes(1)).Out.Trim();
        if (informational.EndsWith("+" + head, StringComparison.Ordinal))
        {
            Assert.Equal(DucktonNode.Version, version);
        }
    }
}
