using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Duckton.Cli;

/// <summary>
/// <c>duckton chain up</c>: the local TON chain (network = local-emulator), a Node process holding one @ton/sandbox
/// blockchain behind a toncenter-v2-compatible HTTP API (contracts/chain/server.js; docs/TON.md). It is an emulator on
/// this machine, not a TON network.
/// </summary>
internal static class ChainCommands
{
    public const string Network = "local-emulator";

    public static Command Chain()
    {
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1 (0 = any free port)", DefaultValueFactory = _ => 8081 };
        var state = new Option<string?>("--state") { Description = "Directory that keeps the chain's state (sandbox snapshots) across restarts; without it the state is lost on exit" };
        var exitWithStdin = new Option<bool>("--exit-with-stdin") { Description = "Also stop when stdin closes (for supervisors)" };
        var up = new Command("up", $"Start the local TON chain (network = {Network}: an @ton/sandbox emulator, not a TON network) "
            + "behind a toncenter-v2-compatible API on 127.0.0.1 until SIGINT/SIGTERM; prints 'ready rpc=http://127.0.0.1:P/api/v2'");
        up.Options.Add(port);
        up.Options.Add(state);
        up.Options.Add(exitWithStdin);
        up.SetAction(parse => Up(parse.GetValue(port), parse.GetValue(state), parse.GetValue(exitWithStdin)));
        var chain = new Command("chain", $"The local TON chain for development and tests (network = {Network})");
        chain.Subcommands.Add(up);
        return chain;
    }

    /// <summary>The repository's contracts/ folder: $DUCKTON_CONTRACTS_DIR, else the first ancestor of the CLI or of the working directory that holds contracts/chain/server.js.</summary>
    public static string? ContractsDirectory()
    {
        if (Environment.GetEnvironmentVariable("DUCKTON_CONTRACTS_DIR") is { Length: > 0 } configured)
        {
            return File.Exists(Path.Combine(configured, "chain", "server.js")) ? Path.GetFullPath(configured) : null;
        }
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "contracts");
                if (File.Exists(Path.Combine(candidate, "chain", "server.js")))
                {
                    return candidate;
                }
            }
        }
        return null;
    }

    private static int Up(int port, string? state, bool exitWithStdin)
    {
        if (port is < 0 or > 65535)
        {
            Console.Error.WriteLine("Error: --port must be 0..65535 (0 picks a free port)");
            return 2;
        }
        if (ContractsDirectory() is not { } contracts)
        {
            Console.Error.WriteLine("Error: cannot find contracts/chain/server.js (run duckton from its repository, or set DUCKTON_CONTRACTS_DIR to the contracts folder)");
            return 1;
        }
        // npm ci from the committed lock file, once (the script does nothing when node_modules matches the lock).
        var install = Run("bash", [Path.Combine(contracts, "scripts", "install-deps.sh")], redirectStdin: false);
        if (install is null || install.Value != 0)
        {
            Console.Error.WriteLine(install is null
                ? "Error: bash is not available to install the chain's npm packages"
                : $"Error: installing the chain's npm packages failed (exit {install}); see the npm output above");
            return 1;
        }
        var psi = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardInput = true, WorkingDirectory = contracts };
        foreach (var a in new[] { Path.Combine(contracts, "chain", "server.js"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--exit-with-stdin" })
        {
            psi.ArgumentList.Add(a);
        }
        if (state is not null)
        {
            psi.ArgumentList.Add("--state");
            psi.ArgumentList.Add(Path.GetFullPath(state));
        }
        Process node;
        try
        {
            node = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"Error: cannot start node ({e.Message}); install Node.js 20 or later");
            return 1;
        }
        // The chain stops (and saves its state) when its stdin closes: that is how a signal to this process reaches it,
        // and why it also stops if this process is killed outright.
        void Stop()
        {
            try
            {
                node.StandardInput.Close();
            }
            catch (IOException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; Stop(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Stop(); });
        if (exitWithStdin)
        {
            new Thread(() =>
            {
                try
                {
                    while (Console.In.ReadLine() is not null)
                    {
                    }
                }
                catch (IOException)
                {
                }
                Stop();
            }) { IsBackground = true }.Start();
        }
        node.WaitForExit();
        return node.ExitCode;
    }

    private static int? Run(string file, string[] args, bool redirectStdin)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = redirectStdin };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        try
        {
            using var p = Process.Start(psi)!;
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
