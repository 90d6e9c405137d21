using System.Diagnostics;
using System.Text;

namespace Duckton.Grid.Tests;

/// <summary>A real <c>duckton host</c> process on loopback, started from the duckton.dll built next to the tests.</summary>
public sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private HostProcess(Process process, string nodeId, string address, string configDirectory)
    {
        _process = process;
        NodeId = nodeId;
        Address = address;
        ConfigDirectory = configDirectory;
    }

    public string NodeId { get; }
    public string Address { get; }
    public string ConfigDirectory { get; }
    public bool HasExited => _process.HasExited;
    public int Pid => _process.Id;

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

    public static Task<HostProcess> StartAsync(string root, string name, params string[] extra) => Task.Run(() => Start(root, name, extra));

    public static HostProcess Start(string root, string name, params string[] extra) => Start(root, name, null, extra);

    /// <summary>A host whose process environment also holds <paramref name="environment"/> (e.g. <c>TZ</c>, <c>LANG</c>, <c>LC_ALL</c>).</summary>
    public static HostProcess Start(string root, string name, IReadOnlyDictionary<string, string>? environment, params string[] extra)
    {
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(dir);
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // The default budget, unless the caller gives its own value for an option.
        string[] budget = [.. new[] { ("--memory", "2GB"), ("--threads", "4"), ("--max-jobs", "4") }.Where(d => !extra.Contains(d.Item1)).SelectMany(d => new[] { d.Item1, d.Item2 })];
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "host", "--config-dir", dir, "--listen", "127.0.0.1:0", "--exit-with-stdin" }.Concat(budget).Concat(extra))
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["P2P_CONFIG_DIR"] = dir;
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        var p = Process.Start(psi)!;
        var stderr = new StringBuilder();
        var ready = p.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(60)) || ready.Result is not { } line || !line.StartsWith("ready node_id=", StringComparison.Ordinal))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"host {name} did not print its ready line: {p.StandardError.ReadToEnd()}");
        }
        var parts = line.Split(' ');
        var host = new HostProcess(p, parts[1]["node_id=".Length..], parts[2]["listen=".Length..], dir);
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (host._stderr)
                {
                    host._stderr.AppendLine(e.Data);
                }
            }
        };
        p.BeginErrorReadLine();
        return host;
    }

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(3000))
            {
                Kill();
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
        }
        _process.Dispose();
    }
}
