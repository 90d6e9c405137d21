using System.Diagnostics;
using System.Text;

namespace Duckton.Cli.Tests;

/// <summary>Ctrl-C (SIGINT) in <c>duckton sql</c> cancels a running p2p_query, as it does plain SQL.</summary>
public class InterruptTests : IDisposable
{
    /// <summary>Minutes of work for the inner engine (10^11 rows hashed).</summary>
    private const string Long = "SELECT * FROM p2p_query('SELECT sum(hash(i)) AS s FROM range(100000000000) t(i)')";

    private readonly string _configDir = Directory.CreateTempSubdirectory("duckton-cli-int-").FullName;

    public void Dispose() => Directory.Delete(_configDir, recursive: true);

    /// <summary>The CLI as a real process with stdout and stderr collected as they arrive.</summary>
    private sealed class Running : IDisposable
    {
        private readonly StringBuilder _out = new();
        private readonly StringBuilder _err = new();

        public Running(string? stdin, params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll") }.Concat(args))
            {
                psi.ArgumentList.Add(a);
            }
            Process = Process.Start(psi)!;
            Process.OutputDataReceived += (_, e) => Append(_out, e.Data);
            Process.ErrorDataReceived += (_, e) => Append(_err, e.Data);
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
            if (stdin is not null)
            {
                Process.StandardInput.Write(stdin);
                Process.StandardInput.Flush(); // kept open: the shell must not see end of input while the query runs
            }
        }

        public Process Process { get; }
        public string Stdout => Read(_out);
        public string Stderr => Read(_err);

        private static void Append(StringBuilder b, string? line)
        {
            if (line is not null)
            {
                lock (b)
                {
                    b.Append(line).Append('\n');
                }
            }
        }

        private static string Read(StringBuilder b)
        {
            lock (b)
            {
                return b.ToString();
            }
        }

        public void WaitForOutput(string text, TimeSpan timeout)
        {
            var sw = Stopwatch.StartNew();
            while (!Stdout.Contains(text, StringComparison.Ordinal))
            {
                if (Process.HasExited)
                {
                    Assert.Fail($"the CLI exited early ({Process.ExitCode}): {Stdout} {Stderr}");
                }
                Assert.True(sw.Elapsed < timeout, $"no '{text}' after {timeout}: {Stdout} {Stderr}");
                Thread.Sleep(20);
            }
        }

        public void Interrupt()
        {
            using var kill = Process.Start("kill", ["-INT", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            kill.WaitForExit();
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }
            Process.Dispose();
        }
    }

    [Fact]
    public void SIGINT_fails_a_running_p2p_query_with_an_interrupt_error_and_the_process_exits_cleanly()
    {
        using var cli = new Running(null, "sql", "--config-dir", _configDir, "--format", "csv", "-c", "SELECT 'ready' AS state", "-c", Long, "-c", "SELECT 'not reached' AS state");
        cli.WaitForOutput("ready", TimeSpan.FromMinutes(2));
        Thread.Sleep(1500); // the p2p_query is binding: its inner engine is hashing rows
        Assert.False(cli.Process.HasExited, "the long query finished on its own");

        var sw = Stopwatch.StartNew();
        cli.Interrupt();
        Assert.True(cli.Process.WaitForExit(TimeSpan.FromSeconds(30)), "the CLI did not stop after SIGINT");
        var took = sw.Elapsed;
        cli.Process.WaitForExit(); // drains the output readers
        Assert.Equal(1, cli.Process.ExitCode); // the statement failed; the process was not killed by the signal
        Assert.Contains("Interrupted", cli.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("not reached", cli.Stdout, StringComparison.Ordinal);
        // Within 1 s on an idle machine; this one is shared, so allow a few (the query itself runs for minutes).
        Assert.True(took < TimeSpan.FromSeconds(5), $"SIGINT to exit took {took.TotalMilliseconds:0} ms");
    }

    [Fact]
    public void After_SIGINT_the_shell_goes_on_with_the_next_statement()
    {
        using var cli = new Running($"SELECT 'ready' AS state;\n{Long};\nSELECT 'after' || 'wards' AS state;\n", "sql", "--config-dir", _configDir, "--format", "csv");
        cli.WaitForOutput("ready", TimeSpan.FromMinutes(2));
        Thread.Sleep(1500);
        Assert.False(cli.Process.HasExited, "the long query finished on its own");

        var sw = Stopwatch.StartNew();
        cli.Interrupt();
        cli.WaitForOutput("afterwards", TimeSpan.FromSeconds(30));
        var took = sw.Elapsed;
        Assert.Contains("Interrupted", cli.Stderr, StringComparison.Ordinal);
        Assert.True(took < TimeSpan.FromSeconds(5), $"SIGINT to the next statement's output took {took.TotalMilliseconds:0} ms");
        cli.Process.StandardInput.Close();
        Assert.True(cli.Process.WaitForExit(TimeSpan.FromSeconds(30)), "the shell did not exit at end of input");
    }
}
