using System.Buffers;
using System.Diagnostics;
using System.Reflection.PortableExecutable;
using System.Text;
using Duckton.Node.Grid.Execution;

namespace Duckton.Cli.Tests;

/// <summary>
/// The duckton.dll the tests start as hosts, sandbox workers and the CLI is the precompiled (ReadyToRun) build that
/// <c>./duckton</c> runs (eng/cli-readytorun.targets): its assemblies carry native code, and a fresh process runs the
/// project's own code without compiling it. The comparison runs the same files with the runtime told to ignore their
/// native code (<c>DOTNET_ReadyToRun=0</c>), and counts the methods the JIT compiled (the runtime's own summary).
/// </summary>
public class ReadyToRunTests
{
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "duckton.dll");

    [Fact]
    public void The_CLI_and_every_project_assembly_next_to_the_tests_are_precompiled()
    {
        var assemblies = Directory.GetFiles(AppContext.BaseDirectory, "Duckton.*.dll")
            .Where(f => !Path.GetFileName(f).Contains(".Tests", StringComparison.Ordinal))
            .Append(Dll)
            .ToList();
        Assert.Contains(assemblies, f => Path.GetFileName(f) == "Duckton.Node.dll");
        foreach (var file in assemblies)
        {
            using var pe = new PEReader(File.OpenRead(file));
            var cor = pe.PEHeaders.CorHeader!;
            // A ReadyToRun image: the IL-library flag and a native header next to the IL (which stays loadable as IL).
            Assert.True(cor.Flags.HasFlag(CorFlags.ILLibrary) && cor.ManagedNativeHeaderDirectory.Size > 0, $"{Path.GetFileName(file)} is not precompiled");
        }
        // The test assembly itself is not part of the CLI: left as built.
        using var self = new PEReader(File.OpenRead(typeof(ReadyToRunTests).Assembly.Location));
        Assert.Equal(0, self.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size);
    }

    [Fact]
    public void A_fresh_sandbox_worker_runs_its_first_job_with_few_of_the_projects_methods_compiled_by_the_JIT() => AssertFewJitted(FirstWorkerJob);

    [Fact]
    public void A_duckton_sql_command_compiles_few_of_the_projects_methods() => AssertFewJitted(SqlCommand);

    /// <summary>With the native code, under a fifth of the project's methods the same run JIT-compiles without it.</summary>
    private static void AssertFewJitted(Action<IDictionary<string, string?>> run)
    {
        var precompiled = ProjectMethodsJitted(run, useNativeCode: true);
        var jitOnly = ProjectMethodsJitted(run, useNativeCode: false);
        Assert.True(jitOnly > 100, $"the JIT summary counted only {jitOnly} methods without the native code");
        Assert.True(precompiled * 5 < jitOnly, $"{precompiled} of the project's methods JIT-compiled with the native code, {jitOnly} without");
    }

    /// <summary>Methods of the project's own types (Duckton.*) the JIT compiled while <paramref name="run"/> ran.</summary>
    private static int ProjectMethodsJitted(Action<IDictionary<string, string?>> run, bool useNativeCode)
    {
        var dir = Directory.CreateTempSubdirectory("duckton-r2r-").FullName;
        try
        {
            var summary = Path.Combine(dir, "jit.txt");
            var env = new Dictionary<string, string?>
            {
                ["DOTNET_JitStdOutFile"] = summary,
                ["DOTNET_JitDisasmSummary"] = "1",
                ["DOTNET_ReadyToRun"] = useNativeCode ? "1" : "0",
                ["XDG_CONFIG_HOME"] = dir,
                ["TMPDIR"] = dir,
            };
            run(env);
            return File.ReadLines(summary).Count(l => l.Contains("JIT compiled Duckton.", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void SqlCommand(IDictionary<string, string?> env)
    {
        var r = CliRunner.Run("dotnet", [Dll, "sql", "--config-dir", Path.Combine(env["TMPDIR"]!, "node"), "-c", "SELECT 42 AS answer"],
            env: env.ToDictionary(kv => kv.Key, kv => kv.Value!));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("42", r.Stdout);
    }

    /// <summary>Starts `duckton sandbox-worker` as a host does, runs one job to its Done frame, and ends the worker.</summary>
    private static void FirstWorkerJob(IDictionary<string, string?> env)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = env["TMPDIR"]!,
            ArgumentList = { Dll, SandboxWorkerProcess.Subcommand, "--memory", (1L << 30).ToString(), "--threads", "1", "--max-result", (1L << 30).ToString() },
        };
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            var output = p.StandardOutput.BaseStream;
            Assert.Equal(SandboxPipe.Ready, Next(output, cts.Token));
            SandboxPipe.Write(p.StandardInput.BaseStream, SandboxPipe.Query, Encoding.UTF8.GetBytes("SELECT 42 AS answer"));
            p.StandardInput.BaseStream.Flush();
            byte type;
            while ((type = Next(output, cts.Token)) != SandboxPipe.Done)
            {
                Assert.NotEqual(SandboxPipe.Error, type);
            }
            p.StandardInput.Close();
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(1)), "the worker did not end when its stdin closed");
            Assert.True(p.ExitCode == 0, stderr.Result);
        }
        finally
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
            }
        }
    }

    private static byte Next(Stream output, CancellationToken ct)
    {
        // The read blocks; the wait for it is bounded (the finally above kills a worker that hangs).
        var frame = Task.Run(() => SandboxPipe.Read(output), ct).WaitAsync(ct).GetAwaiter().GetResult() ?? throw new InvalidOperationException("the worker ended early");
        ArrayPool<byte>.Shared.Return(frame.Buffer);
        return frame.Type;
    }
}
