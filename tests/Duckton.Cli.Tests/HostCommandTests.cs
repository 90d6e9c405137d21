using System.Diagnostics;
using System.Text;

namespace Duckton.Cli.Tests;

/// <summary>
/// <c>duckton host</c> and <c>duckton grid up</c> as real processes: bad options are one-line usage errors (exit 2),
/// hosts log each job on stderr (not with --quiet) while stdout keeps only the ready line, and grid up removes the
/// temporary config root it created when it is stopped.
/// </summary>
public class HostCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-hostcmd-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Theory]
    [InlineData("host --listen nonsense", "Error: --listen 'nonsense' is not HOST:PORT")]
    [InlineData("host --listen 127.0.0.1:99999", "Error: --listen '127.0.0.1:99999' has port '99999'")]
    [InlineData("host --listen example.invalid:9494", "Error: --listen 'example.invalid:9494' has host 'example.invalid'")]
    [InlineData("host --listen [zz]:1", "Error: --listen '[zz]:1' has 'zz' in brackets")]
    [InlineData("host --seed nonsense", "Error: --seed 'nonsense' is not HOST:PORT")]
    [InlineData("host --seed 10.0.0.5:0", "Error: --seed '10.0.0.5:0' has port '0'")]
    [InlineData("host --memory lots", "Error: --memory 'lots': budget.memory_bytes = lots is invalid: expected a byte size")]
    [InlineData("host --threads 0", "Error: --threads '0':")]
    [InlineData("host --max-jobs -1", "Error: --max-jobs '-1':")]
    [InlineData("host --threads many", "Error: --threads expects a whole number, not 'many'")]
    [InlineData("host --verbose --quiet", "Error: --verbose and --quiet exclude each other")]
    [InlineData("host --no-such-option", "Error: Unrecognized command or argument '--no-such-option'")]
    [InlineData("grid up --hosts 0", "Error: need --hosts")]
    [InlineData("grid up --hosts two", "Error: --hosts expects a whole number, not 'two'")]
    [InlineData("grid up --hosts 2 --base-port 70000", "Error: --base-port must be")]
    [InlineData("grid up --hosts 1 --quiet --verbose", "Error: --verbose and --quiet exclude each other")]
    [InlineData("grid up --hosts 1 --config-root /dev/null/x", "Error: --config-root '/dev/null/x' cannot be used as a directory")]
    public void Bad_options_are_a_one_line_usage_error_with_exit_code_2(string args, string expected)
    {
        var dir = Path.Combine(_root, "cfg");
        var argv = args.Split(' ').ToList();
        if (argv[0] == "host")
        {
            argv.InsertRange(1, ["--config-dir", dir]);
        }
        var r = CliRunner.Duckton(null, [.. argv]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith(expected, r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal); // no .NET stack trace
        Assert.DoesNotContain("Exception", r.Stderr, StringComparison.Ordinal);
        Assert.True(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 2, r.Stderr); // the error (+ where help is)
        Assert.Equal("", r.Stdout);
    }

    /// <summary>A running <c>duckton host</c> whose stderr is collected line by line.</summary>
    private sealed class Host : IDisposable
    {
        private readonly Process _p;
        private readonly StringBuilder _stderr = new();

        public Host(string dir, params string[] extra)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "host", "--config-dir", dir, "--listen", "127.0.0.1:0", "--exit-with-stdin" }.Concat(extra))
            {
                psi.ArgumentList.Add(a);
            }
            _p = Process.Start(psi)!;
            _p.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (_stderr)
                    {
                        _stderr.AppendLine(e.Data);
                    }
                }
            };
            _p.BeginErrorReadLine();
            var ready = _p.StandardOutput.ReadLineAsync();
            Assert.True(ready.Wait(TimeSpan.FromSeconds(90)), "no ready line");
            ReadyLine = ready.Result ?? "";
            Assert.StartsWith("ready node_id=b3:", ReadyLine, StringComparison.Ordinal);
            NodeId = ReadyLine.Split(' ')[1]["node_id=".Length..];
            Address = ReadyLine.Split(' ')[2]["listen=".Length..];
        }

        public string ReadyLine { get; }
        public string NodeId { get; }
        public string Address { get; }

        public string Stderr
        {
            get
            {
                lock (_stderr)
                {
                    return _stderr.ToString();
                }
            }
        }

        /// <summary>Closes stdin (the host exits) and returns the rest of its stdout.</summary>
        public string Stop()
        {
            _p.StandardInput.Close();
            var rest = _p.StandardOutput.ReadToEnd();
            if (!_p.WaitForExit(30_000))
            {
                _p.Kill(entireProcessTree: true);
            }
            _p.WaitForExit(); // drains the stderr reader
            return rest;
        }

        public void Dispose()
        {
            if (!_p.HasExited)
            {
                _p.Kill(entireProcessTree: true);
                _p.WaitForExit(5000);
            }
            _p.Dispose();
        }
    }

    private CliRunner.Result RemoteQuery(Host host, string name, string value)
    {
        var dir = Path.Combine(_root, name);
        // Three joins: on a loaded machine one gossip round can time out, and p2p_join then keeps the seed without failing.
        var join = $"SELECT count(*) AS n FROM p2p_join(bootstrap => ['{host.Address}'])";
        return CliRunner.Duckton(null, "sql", "--config-dir", dir, "--format", "csv", "-c", join, "-c", join, "-c", join,
            "-c", $"SELECT key, value FROM p2p_query_meta('SELECT {value} AS v FROM range(7)', replicas => 1, quorum => 1, prefer => 'remote', nodes => ['{host.NodeId}']) "
                + "WHERE key IN ('winner', 'result_rows', 'error') ORDER BY key");
    }

    [Fact]
    public void A_host_logs_each_job_on_stderr_and_quiet_suppresses_it()
    {
        using var host = new Host(Path.Combine(_root, "host"));
        var r = RemoteQuery(host, "requester", "6");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"result_rows,7\nwinner,{host.NodeId}\n", r.Stdout); // the host ran it (not a local fallback)
        var rest = host.Stop();
        Assert.Equal("", rest); // stdout has the ready line and nothing after it
        var jobLines = host.Stderr.Split('\n').Where(l => l.Contains("duckton.host", StringComparison.Ordinal) && l.Contains(" job ", StringComparison.Ordinal)).ToList();
        Assert.Contains(jobLines, l => l.Contains("info", StringComparison.Ordinal) && l.Contains(": served, 7 rows, ", StringComparison.Ordinal)
            && l.Contains(" from b3:", StringComparison.Ordinal) && l.Contains(" bytes, ", StringComparison.Ordinal) && l.Contains(" ms", StringComparison.Ordinal));
        Assert.Contains("stopping after", host.Stderr);

        using var quiet = new Host(Path.Combine(_root, "quiet-host"), "--quiet");
        r = RemoteQuery(quiet, "requester2", "6");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"result_rows,7\nwinner,{quiet.NodeId}\n", r.Stdout);
        Assert.Equal("", quiet.Stop());
        Assert.DoesNotContain(" job ", quiet.Stderr);
        Assert.DoesNotContain("info", quiet.Stderr);
    }

    [Fact]
    public void A_host_logs_a_failed_job_with_the_error()
    {
        using var host = new Host(Path.Combine(_root, "host"), "--verbose");
        var dir = Path.Combine(_root, "requester");
        var join = $"SELECT count(*) AS n FROM p2p_join(bootstrap => ['{host.Address}'])";
        var r = CliRunner.Duckton(null, "sql", "--config-dir", dir, "--format", "csv", "-c", join, "-c", join, "-c", join,
            "-c", $"SELECT * FROM p2p_query('SELECT * FROM no_such_table', replicas => 1, quorum => 1, prefer => 'remote', nodes => ['{host.NodeId}'])");
        Assert.Equal(1, r.ExitCode);
        host.Stop();
        Assert.Contains(host.Stderr.Split('\n'), l => l.Contains(": failed after ", StringComparison.Ordinal) && l.Contains("no_such_table", StringComparison.Ordinal));
        Assert.Contains("dbug", host.Stderr); // --verbose: debug lines too
        Assert.Contains($"hosting as {host.NodeId}", host.Stderr);
    }

    private static (Process P, List<string> Stdout) StartGrid(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "grid", "up" }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi)!;
        p.BeginErrorReadLine();
        var lines = new List<string>();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            var line = p.StandardOutput.ReadLine();
            if (line is null)
            {
                break;
            }
            lines.Add(line);
            if (line.StartsWith("grid up:", StringComparison.Ordinal))
            {
                return (p, lines);
            }
        }
        p.Kill(entireProcessTree: true);
        throw new InvalidOperationException("grid up did not print its 'grid up:' line: " + string.Join('\n', lines));
    }

    private static int Signal(Process p, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.True(p.WaitForExit(60_000), $"grid up did not exit after SIG{signal}");
        return p.ExitCode;
    }

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public void Grid_up_removes_the_temporary_config_root_it_created_on_exit(string signal)
    {
        var (p, lines) = StartGrid("--hosts", "1");
        using (p)
        {
            var summary = lines[^1];
            var at = summary.IndexOf("config root ", StringComparison.Ordinal) + "config root ".Length;
            var root = summary[at..summary.IndexOf(' ', at)];
            Assert.Contains("(temporary: removed on exit)", summary);
            Assert.True(Directory.Exists(Path.Combine(root, "host-0")), root);
            Assert.Equal(0, Signal(p, signal));
            Assert.False(Directory.Exists(root), $"{root} was left behind");
        }
    }

    [Fact]
    public void Grid_up_keeps_a_config_root_it_was_given()
    {
        var root = Path.Combine(_root, "given-root");
        var (p, lines) = StartGrid("--hosts", "1", "--config-root", root);
        using (p)
        {
            Assert.DoesNotContain("temporary", lines[^1]);
            Assert.Equal(0, Signal(p, "INT"));
            Assert.True(Directory.Exists(Path.Combine(root, "host-0")));
        }
    }
}
