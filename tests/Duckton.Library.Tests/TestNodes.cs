using System.Diagnostics;

namespace Duckton.Library.Tests;

/// <summary>Temporary configuration directories (each one a distinct node), deleted at the end of the test.</summary>
internal sealed class TempDirs : IDisposable
{
    private readonly List<string> _dirs = [];

    public string New(string prefix = "duckton-lib-")
    {
        var dir = Directory.CreateTempSubdirectory(prefix).FullName;
        _dirs.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        foreach (var d in _dirs)
        {
            try
            {
                Directory.Delete(d, recursive: true);
            }
            catch (IOException)
            {
                // a host's file still closing: the OS's temp cleanup takes it
            }
        }
    }
}

internal static class Repo
{
    /// <summary>The repository root (where Duckton.sln is).</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Duckton.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        return dir ?? throw new InvalidOperationException("Duckton.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a process to the end (or kills it at <paramref name="timeout"/>), returning its exit code and output.</summary>
    public static (int Code, string Out, string Err) Run(string file, IEnumerable<string> args, string workingDirectory, TimeSpan timeout, IDictionary<string, string?>? env = null)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        if (env is not null)
        {
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, stdout.Result, stderr.Result + $"\n(killed after {timeout.TotalSeconds} s)");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
