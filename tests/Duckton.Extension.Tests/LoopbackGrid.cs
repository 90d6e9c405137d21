using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Duckton.Extension.Tests;

/// <summary>
/// A real <c>duckton grid up --hosts N</c> process on loopback (it starts the host processes itself), from the
/// duckton.dll built next to the tests, with its config root in a temporary directory of its own. Dispose stops it
/// with SIGTERM (which grid up handles like Ctrl+C; SIGINT may be ignored in a process started in the background),
/// kills whatever host process is left, and deletes the directory.
/// </summary>
public sealed partial class LoopbackGrid : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly string _root;

    public LoopbackGrid(int hosts)
    {
        _root = Directory.CreateTempSubdirectory("duckton-ext-grid-").FullName;
        ConfigRoot = Path.Combine(_root, "grid");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "grid", "up", "--hosts", hosts.ToString(CultureInfo.InvariantCulture), "--config-root", ConfigRoot })
        {
            psi.ArgumentList.Add(a);
        }
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginErrorReadLine();
        var lines = new List<string>();
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var read = _process.StandardOutput.ReadLineAsync();
            var left = TimeSpan.FromSeconds(120) - watch.Elapsed;
            if (left <= TimeSpan.Zero || !read.Wait(left) || read.Result is not { } line)
            {
                var stderr = Stderr;
                Dispose();
                throw new InvalidOperationException($"grid up did not print its 'grid up:' line; stdout:\n{string.Join('\n', lines)}\nstderr:\n{stderr}");
            }
            lines.Add(line);
            if (HostLine().Match(line) is { Success: true } host)
            {
                NodeIds.Add(host.Groups["id"].Value);
            }
            if (SeedOf().Match(line) is { Success: true } seed)
            {
                Seed = seed.Groups[1].Value;
                break;
            }
        }
        // Nothing reads grid up's stdout from here on; drain it so a chatty grid never blocks on a full pipe.
        _ = _process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
    }

    [GeneratedRegex(@"^\S+ node_id=(?<id>b3:[0-9a-f]{64}) ")]
    private static partial Regex HostLine();

    [GeneratedRegex(@"^grid up:.*p2p_join\(bootstrap => \['([^']+)'\]\)")]
    private static partial Regex SeedOf();

    /// <summary>The address to pass to <c>p2p_join(bootstrap => [...])</c> (the first host's).</summary>
    public string Seed { get; } = "";

    /// <summary>The node ids of the hosts, as <c>grid up</c> printed them.</summary>
    public List<string> NodeIds { get; } = [];

    public string ConfigRoot { get; }

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

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>The host processes grid up started: their command line names a config dir under <see cref="ConfigRoot"/>.</summary>
    private List<int> HostPids()
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == _process.Id)
            {
                continue;
            }
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(" host ", StringComparison.Ordinal) && cmdline.Contains(ConfigRoot + "/", StringComparison.Ordinal))
                {
                    pids.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // it exited while we looked
            }
        }
        return pids;
    }

    public void Dispose()
    {
        try
        {
            var hosts = HostPids();
            if (!_process.HasExited)
            {
                _ = Kill(_process.Id, 15); // SIGTERM: grid up stops its hosts
                if (!_process.WaitForExit(TimeSpan.FromSeconds(20)))
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(5000);
                }
            }
            foreach (var pid in hosts)
            {
                try
                {
                    using var p = Process.GetProcessById(pid);
                    if (!p.WaitForExit(5000))
                    {
                        p.Kill(entireProcessTree: true);
                    }
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // already gone
                }
            }
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>One three-host <see cref="LoopbackGrid"/> shared by the tests of a class.</summary>
public sealed class LoopbackGridFixture : IDisposable
{
    public LoopbackGrid Grid { get; } = new(hosts: 3);

    public void Dispose() => Grid.Dispose();
}
