namespace Duckton.Extension.Tests;

/// <summary>
/// Produces <c>artifacts/duckton.duckdb_extension</c> the way a user does (<c>dotnet publish src/Duckton.Extension -c Release</c>),
/// reusing the file when it is newer than every input it is built from.
/// </summary>
internal static class ExtensionBuild
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string ArtifactPath => Path.Combine(RepoRoot, "artifacts", "duckton.duckdb_extension");

    public static string EnsurePublished()
    {
        var artifact = ArtifactPath;
        Directory.CreateDirectory(Path.GetDirectoryName(artifact)!);
        // One publish at a time, should two test processes start together.
        using var gate = AcquireLock(Path.Combine(RepoRoot, "artifacts", ".publish.lock"));
        if (File.Exists(artifact) && File.GetLastWriteTimeUtc(artifact) > NewestInput())
        {
            return artifact;
        }
        var project = Path.Combine(RepoRoot, "src", "Duckton.Extension", "Duckton.Extension.csproj");
        var result = ProcessRunner.Run(DotnetHost(), ["publish", project, "-c", "Release", "-nologo", "--disable-build-servers", "-nodeReuse:false"],
            RepoRoot, BuildEnvironment(), TimeSpan.FromMinutes(10));
        if (result.ExitCode != 0 || !File.Exists(artifact))
        {
            throw new InvalidOperationException($"dotnet publish of the extension failed: {result}");
        }
        return artifact;
    }

    /// <summary>The newest write time among the sources, project files and build scripts the extension is made from.</summary>
    private static DateTime NewestInput()
    {
        var newest = DateTime.MinValue;
        foreach (var file in InputFiles())
        {
            var t = File.GetLastWriteTimeUtc(file);
            if (t > newest)
            {
                newest = t;
            }
        }
        return newest;
    }

    private static IEnumerable<string> InputFiles()
    {
        foreach (var name in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json" })
        {
            var path = Path.Combine(RepoRoot, name);
            if (File.Exists(path))
            {
                yield return path;
            }
        }
        foreach (var dir in new[] { "src", "eng" })
        {
            foreach (var file in WalkSources(Path.Combine(RepoRoot, dir)))
            {
                yield return file;
            }
        }
    }

    private static IEnumerable<string> WalkSources(string directory)
    {
        if (!Directory.Exists(directory))
        {
            yield break;
        }
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            yield return file;
        }
        foreach (var sub in Directory.EnumerateDirectories(directory))
        {
            var name = Path.GetFileName(sub);
            if (name is "bin" or "obj" or "node_modules" || name.StartsWith('.'))
            {
                continue;
            }
            foreach (var file in WalkSources(sub))
            {
                yield return file;
            }
        }
    }

    /// <summary>The dotnet executable running these tests (the SDK's host), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }

    /// <summary>
    /// The test host inherits MSBuild's own variables from <c>dotnet test</c>; a nested build must not see them
    /// (they point it at the outer build's MSBuild instance and node settings).
    /// </summary>
    private static Dictionary<string, string?> BuildEnvironment()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("_MSBUILD", StringComparison.OrdinalIgnoreCase))
            {
                env[key] = null;
            }
        }
        env["MSBUILDDISABLENODEREUSE"] = "1";
        env["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        env["DOTNET_NOLOGO"] = "1";
        return env;
    }

    private static FileStream AcquireLock(string path)
    {
        var deadline = DateTime.UtcNow.AddMinutes(12);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(500);
            }
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Duckton.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Duckton.sln above {AppContext.BaseDirectory}");
    }
}
