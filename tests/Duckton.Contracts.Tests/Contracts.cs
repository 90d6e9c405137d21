using System.Diagnostics;

namespace Duckton.Contracts.Tests;

/// <summary>The repository's contracts/ folder, its npm packages (installed once from the lock file) and processes run there.</summary>
internal static class Contracts
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Directory => Path.Combine(RepoRoot, "contracts");

    private static readonly Lock InstallLock = new();
    private static bool _installed;

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Duckton.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    /// <summary>npm ci from contracts/package-lock.json unless node_modules already matches it (the script decides).</summary>
    public static void EnsureInstalled()
    {
        lock (InstallLock)
        {
            if (_installed)
            {
                return;
            }
            var r = Run("bash", [Path.Combine(Directory, "scripts", "install-deps.sh")], TimeSpan.FromMinutes(5));
            Assert.True(r.ExitCode == 0, $"installing the contracts' npm packages failed:\n{r.Stdout}\n{r.Stderr}");
            _installed = true;
        }
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Directory };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
