namespace Duckton.Extension.Tests;

/// <summary>
/// capi/grid_client.c compiled with gcc against the libduckdb.so the build fetched into .duckdb-cache/, into
/// .cache/capi/ (rebuilt when the source is newer than the program).
/// </summary>
internal static class CApiClient
{
    public static string EnsureBuilt()
    {
        var source = Path.Combine(ExtensionBuild.RepoRoot, "tests", "Duckton.Extension.Tests", "capi", "grid_client.c");
        var libDirectory = Path.Combine(ExtensionBuild.RepoRoot, ".duckdb-cache");
        var outDirectory = Path.Combine(ExtensionBuild.RepoRoot, ".cache", "capi");
        var program = Path.Combine(outDirectory, "grid_client");
        Directory.CreateDirectory(outDirectory);
        if (File.Exists(program) && File.GetLastWriteTimeUtc(program) > File.GetLastWriteTimeUtc(source))
        {
            return program;
        }
        // Build beside the target and rename, so a concurrent reader never runs a half-written file.
        var temporary = $"{program}.{Environment.ProcessId}";
        var result = ProcessRunner.Run("gcc", ["-O1", "-Wall", "-Werror", "-o", temporary, source, $"-L{libDirectory}", "-l:libduckdb.so", $"-Wl,-rpath,{libDirectory}"],
            ExtensionBuild.RepoRoot, null, TimeSpan.FromMinutes(2));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"gcc could not build {source}: {result}");
        }
        File.Move(temporary, program, overwrite: true);
        return program;
    }
}
