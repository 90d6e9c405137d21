namespace Duckton.Core.Tests.Configuration;

/// <summary>A fresh config directory and a fake environment for one test.</summary>
internal sealed class TempConfigDir : IDisposable
{
    public TempConfigDir()
    {
        Root = Path.Combine(Path.GetTempPath(), "duckton-config-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        ConfigDir = Path.Combine(Root, "duckdb-p2p");
    }

    public string Root { get; }
    public string ConfigDir { get; }
    public Dictionary<string, string> Env { get; } = new(StringComparer.Ordinal);

    public string? GetEnv(string name) => Env.TryGetValue(name, out var value) ? value : null;

    public Duckton.Core.Configuration.ConfigStore Store() => new(ConfigDir, GetEnv, Root);

    public string WriteConfig(string toml, string? path = null)
    {
        path ??= Path.Combine(ConfigDir, "config.toml");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, toml);
        return path;
    }

    public string RuntimeFile => Path.Combine(ConfigDir, "runtime.toml");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class RepoPaths
{
    /// <summary>The repository root (the directory holding Duckton.sln).</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Duckton.sln")))
                {
                    return dir.FullName;
                }
            }
            throw new InvalidOperationException("Duckton.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
