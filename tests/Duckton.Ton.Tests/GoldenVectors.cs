using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace Duckton.Ton.Tests;

/// <summary>
/// Runs vectors/emit.cjs (the pinned @ton/core, @ton/crypto and @ton/ton, installed with npm ci into artifacts/) once
/// per test run and hands out its JSON. The C# side must reproduce every byte.
/// </summary>
public static class GoldenVectors
{
    private static readonly Lazy<JsonDocument> s_document = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    public static JsonElement Root => s_document.Value.RootElement;

    public static string ScriptDirectory => typeof(GoldenVectors).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "VectorsDirectory").Value!;

    private static JsonDocument Load()
    {
        var repoRoot = Path.GetFullPath(Path.Combine(ScriptDirectory, "..", "..", ".."));
        var installDir = Path.Combine(repoRoot, "artifacts", "ton-vectors");
        Run("bash", [Path.Combine(ScriptDirectory, "install.sh"), installDir], ScriptDirectory, TimeSpan.FromMinutes(5));
        // emit.cjs resolves @ton/* from NODE_PATH (the install folder), so the script itself stays in the source tree.
        var json = Run("node", [Path.Combine(ScriptDirectory, "emit.cjs")], ScriptDirectory, TimeSpan.FromMinutes(2),
            ("NODE_PATH", Path.Combine(installDir, "node_modules")));
        return JsonDocument.Parse(json);
    }

    private static string Run(string file, string[] args, string workDir, TimeSpan timeout, params (string Key, string Value)[] env)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}");
        }
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        }
        return stdout.Result;
    }
}
