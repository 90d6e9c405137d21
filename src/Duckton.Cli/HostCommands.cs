using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Duckton.Core.Configuration;
using Duckton.Core.Trust;
using Duckton.DuckDB.Native;
using Duckton.Node;
using Duckton.Node.Grid;
using Microsoft.Extensions.Logging;

namespace Duckton.Cli;

/// <summary><c>duckton host</c> and <c>duckton grid up</c>.</summary>
internal static class HostCommands
{
    private static readonly Dictionary<string, SimulatedFault> s_faults = new(StringComparer.OrdinalIgnoreCase)
    {
        ["none"] = SimulatedFault.None,
        ["cheat"] = SimulatedFault.Cheat,
        ["equivocate"] = SimulatedFault.Equivocate,
        ["stall-commit"] = SimulatedFault.StallCommit,
        ["stall-stream"] = SimulatedFault.StallStream,
        ["die-stream"] = SimulatedFault.DieStream,
        ["flaky"] = SimulatedFault.Flaky,
        ["collude"] = SimulatedFault.Collude,
        ["split-view"] = SimulatedFault.SplitView,
        ["overcharge"] = SimulatedFault.Overcharge,
        ["over-inline"] = SimulatedFault.OverInline,
    };

    public static string Describe(SimulatedFault f) => f switch
    {
        SimulatedFault.Cheat => "SIMULATED cheater (perturbs one value and commits the hash of what it sends)",
        SimulatedFault.Equivocate => "SIMULATED equivocator (commits the right hash, streams other rows)",
        SimulatedFault.StallCommit => "SIMULATED stalled host (never commits)",
        SimulatedFault.StallStream => "SIMULATED flaky host (stalls mid-stream)",
        SimulatedFault.DieStream => "SIMULATED flaky host (SIGKILLs itself mid-stream)",
        SimulatedFault.Flaky => "SIMULATED flaky host (alternately stalls before committing and mid-stream)",
        SimulatedFault.Collude => "SIMULATED colluder (agrees with the other colluders on one wrong answer)",
        SimulatedFault.SplitView => "SIMULATED split-view equivocator (wrong answer to a random half of its jobs)",
        SimulatedFault.Overcharge => "SIMULATED overcharger (its signed commit claims twice the price it quoted for a paid job)",
        SimulatedFault.OverInline => "SIMULATED over-sender (sends every result of up to 1 MiB with its commit, whatever the dispatch allowed)",
        _ => "honest",
    };

    public static Command Host(Option<string?> configDir)
    {
        var listen = new Option<string?>("--listen") { Description = "Address to listen on, HOST:PORT (default: network.bind_addr)" };
        var seeds = new Option<string[]>("--seed") { Description = "Seed peer HOST:PORT (repeatable)", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
        var memory = new Option<string?>("--memory") { Description = "Memory donated to hosted jobs, e.g. 2GB (default: budget.memory_bytes)" };
        var threads = new Option<int?>("--threads") { Description = "Threads donated (default: budget.threads)" };
        var maxJobs = new Option<int?>("--max-jobs") { Description = "Jobs run at once (default: budget.max_jobs)" };
        var simulate = new Option<string>("--simulate") { Description = "TEST/DEMO ONLY: misbehave on purpose", DefaultValueFactory = _ => "none", Hidden = true };
        simulate.AcceptOnlyFromAmong([.. s_faults.Keys]);
        var commitDelay = new Option<int>("--simulate-commit-delay-ms") { Description = "TEST/DEMO ONLY: delay every commit", Hidden = true };
        var simulateAttestation = new Option<string>("--simulate-attestation") { Description = "TEST/DEMO ONLY: claim L1/L2 with evidence from the SIMULATED demo authority", DefaultValueFactory = _ => "L0", Hidden = true };
        simulateAttestation.AcceptOnlyFromAmong("L0", "L1", "L2");
        var hideReceipts = new Option<bool>("--simulate-hide-receipts") { Description = "TEST/DEMO ONLY: advertise no receipts about this host (hide bad receipts)", Hidden = true };
        var exitWithStdin = new Option<bool>("--exit-with-stdin") { Description = "Exit when standard input closes (for supervisors)", Hidden = true };
        var verbose = HostLog.VerboseOption();
        var quiet = HostLog.QuietOption();
        var command = new Command("host", "Serve jobs for the grid until SIGINT/SIGTERM; logs each job on stderr");
        foreach (var o in new Option[] { configDir, listen, seeds, memory, threads, maxJobs, verbose, quiet, simulate, commitDelay, hideReceipts, simulateAttestation, exitWithStdin })
        {
            command.Options.Add(o);
        }
        command.SetAction(parse =>
        {
            // Usage errors are one line on stderr and exit code 2, before anything starts.
            if (HostLog.Level(parse.GetValue(verbose), parse.GetValue(quiet)) is not { } level)
            {
                return Usage("--verbose and --quiet exclude each other; give one");
            }
            if (parse.GetValue(listen) is { } l && HostLog.ListenProblem(l) is { } listenProblem)
            {
                return Usage($"--listen '{l}' {listenProblem}; e.g. --listen 127.0.0.1:9494");
            }
            foreach (var seed in parse.GetValue(seeds) ?? [])
            {
                if (HostLog.SeedProblem(seed) is { } seedProblem)
                {
                    return Usage($"--seed '{seed}' {seedProblem}; e.g. --seed 10.0.0.5:9494");
                }
            }
            var overrides = new List<(string Option, KeyValuePair<string, string> Setting)>();
            if (parse.GetValue(memory) is { } m)
            {
                overrides.Add(("--memory", new("budget.memory_bytes", m)));
            }
            if (parse.GetValue(threads) is { } t)
            {
                overrides.Add(("--threads", new("budget.threads", t.ToString(CultureInfo.InvariantCulture))));
            }
            if (parse.GetValue(maxJobs) is { } j)
            {
                overrides.Add(("--max-jobs", new("budget.max_jobs", j.ToString(CultureInfo.InvariantCulture))));
            }
            var dir = ConfigDirectory.Resolve(parse.GetValue(configDir));
            var store = new ConfigStore(dir);
            foreach (var (option, setting) in overrides)
            {
                try
                {
                    var donated = store.Effective([setting]).Config.Budget.MemoryBytes;
                    // A host cannot donate memory it does not have: a typo such as 99999TB is refused, not advertised.
                    var ram = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
                    if (option == "--memory" && donated > ram)
                    {
                        return Usage($"--memory '{setting.Value}' is more than this machine's memory ({ram >> 20} MiB); the limit is the machine's memory");
                    }
                }
                catch (ConfigException e)
                {
                    // The store names the layer ("per-call override: "); here the layer is the option just named.
                    var why = e.Message.StartsWith("per-call override: ", StringComparison.Ordinal) ? e.Message["per-call override: ".Length..] : e.Message;
                    return Usage($"{option} '{setting.Value}': {why}");
                }
            }
            return RunHost(dir, parse.GetValue(listen), parse.GetValue(seeds) ?? [], [.. overrides.Select(o => o.Setting)],
                s_faults[parse.GetValue(simulate)!], TimeSpan.FromMilliseconds(parse.GetValue(commitDelay)), parse.GetValue(exitWithStdin), level, parse.GetValue(hideReceipts),
                Enum.Parse<AttestationLevel>(parse.GetValue(simulateAttestation)!));
        });
        return command;
    }

    /// <summary>Most hosts <c>grid up</c> starts on one machine.</summary>
    public const int MaxGridHosts = 64;

    /// <summary>A usage error: one line on stderr, exit code 2 (as for a bad option).</summary>
    public static int Usage(string message)
    {
        Console.Error.WriteLine($"Error: {message}");
        return 2;
    }

    private static int RunHost(string configDirectory, string? listen, string[] seeds, List<KeyValuePair<string, string>> overrides, SimulatedFault fault, TimeSpan commitDelay, bool exitWithStdin,
        LogLevel logLevel, bool hideReceipts = false, AttestationLevel simulatedAttestation = AttestationLevel.L0)
    {
        DuckDBNative.InitializeFromLibrary();
        var store = new ConfigStore(configDirectory);
        NodeConfig config;
        try
        {
            config = store.Effective(overrides).Config;
        }
        catch (ConfigException e)
        {
            return Usage(e.Message);
        }
        using var logs = HostLog.Create(logLevel);
        var log = logs.CreateLogger("duckton.host");
        var simulated = fault != SimulatedFault.None || commitDelay > TimeSpan.Zero || hideReceipts;
        using var node = new GridNode(new GridNodeOptions
        {
            ConfigDirectory = configDirectory,
            Config = store,
            Logger = logs.CreateLogger("duckton.node"),
            JobFaults = simulated ? new SimulatedFaults(fault, commitDelay, hideReceipts) : IJobFaults.None,
            JobObserver = new JobLog(log),
        });
        if (hideReceipts)
        {
            Console.Error.WriteLine("duckton host: SIMULATED receipt hiding (advertises no receipts about itself) — test/demo behaviour");
        }
        var options = WorkerOptions.FromConfig(config) with { SimulatedAttestation = simulatedAttestation };
        if (simulatedAttestation > AttestationLevel.L0)
        {
            Console.Error.WriteLine($"duckton host: SIMULATED attestation {simulatedAttestation} ({SimulatedAttestationAuthority.Label}) — test/demo behaviour; "
                + $"a requester counts it only with trust.attestation_authorities = [\"{Convert.ToHexStringLower(SimulatedAttestationAuthority.Demo.PublicKey)}\"] "
                + $"and trust.allowed_measurements = [\"{simulatedAttestation}:{SimulatedAttestationAuthority.SimulatedMeasurement}\"]");
        }
        if (options.PerJobMemoryBytes > options.MemoryBytes)
        {
            options = options with { PerJobMemoryBytes = options.MemoryBytes };
        }
        string address;
        try
        {
            address = node.StartHosting(options, listen ?? config.Network.BindAddr);
            log.Hosting(node.NodeId, address, options.MemoryBytes, options.Threads, options.MaxJobs, options.JobTimeout.TotalMilliseconds);
            if (seeds.Length > 0)
            {
                log.Joining(string.Join(", ", seeds));
                node.Join(seeds);
            }
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or FormatException or IOException)
        {
            Console.Error.WriteLine($"Error: cannot listen on {listen ?? config.Network.BindAddr}: {e.Message}");
            return 1;
        }
        if (simulated)
        {
            log.SimulatedHost(Describe(fault) + (hideReceipts ? ", hides the receipts about itself" : ""), commitDelay.TotalMilliseconds);
        }
        if (fault != SimulatedFault.None || commitDelay > TimeSpan.Zero)
        {
            Console.Error.WriteLine($"duckton host: {Describe(fault)}{(commitDelay > TimeSpan.Zero ? $", SIMULATED commit delay {commitDelay.TotalMilliseconds:0} ms" : "")} — test/demo behaviour");
        }
        using var shutdown = new Shutdown(exitWithStdin);
        Console.Out.WriteLine($"ready node_id={node.NodeId} listen={address}");
        Console.Out.Flush();
        shutdown.Wait();
        log.Stopping(node.GridIfStarted?.Worker?.JobsServed ?? 0);
        return 0;
    }

    /// <summary>The host's job log: one line per finished job.</summary>
    private sealed class JobLog(ILogger log) : IJobObserver
    {
        public void Finished(JobReport report) => HostLog.Job(log, report);
    }

    /// <summary>
    /// SIGINT/SIGTERM (and, when asked, stdin closing) as one wait. Created before the ready line is printed: a signal
    /// sent as soon as a supervisor reads that line must take the clean path (the runtime's default would just exit).
    /// </summary>
    internal sealed class Shutdown : IDisposable
    {
        private readonly ManualResetEventSlim _stop = new();
        private readonly PosixSignalRegistration _sigint;
        private readonly PosixSignalRegistration _sigterm;

        public Shutdown(bool exitWithStdin)
        {
            _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; _stop.Set(); });
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; _stop.Set(); });
            if (exitWithStdin)
            {
                var watcher = new Thread(() =>
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
                    _stop.Set();
                }) { IsBackground = true };
                watcher.Start();
            }
        }

        public void Wait() => _stop.Wait();

        public void Dispose()
        {
            _sigint.Dispose();
            _sigterm.Dispose();
            _stop.Dispose();
        }
    }

    public static Command GridUp()
    {
        var hosts = new Option<int>("--hosts") { Description = "Hosts to start", Required = true };
        var cheaters = new Option<int>("--cheaters") { Description = "How many of them cheat (SIMULATED)" };
        var flaky = new Option<int>("--flaky") { Description = "How many of them stall (SIMULATED)" };
        var configRoot = new Option<string?>("--config-root") { Description = "Directory for the hosts' configuration directories (default: a new temporary directory)" };
        var basePort = new Option<int>("--base-port") { Description = "First port (host i listens on base+i); 0 = any free port" };
        var verbose = HostLog.VerboseOption();
        var quiet = HostLog.QuietOption();
        var dashboard = new Option<int?>("--dashboard") { Description = "Also run a requester joined to the grid and serve its Trust & Attestation dashboard on 127.0.0.1:PORT (0 = any free port)" };
        var workload = new Option<bool>("--workload") { Description = "With --dashboard: the requester runs a steady mixed query workload (a demo that fills the page)" };
        var economics = new Option<string?>("--economics")
        {
            Description = "Paid grid on the LOCAL chain (duckton chain up) at this RPC, e.g. http://127.0.0.1:8081/api/v2: every host turns economics on, "
                + "funds its node-key wallet from the emulator's faucet, stakes in its vault and prices its jobs (needs --global-params)",
        };
        var globalParams = new Option<string?>("--global-params") { Description = "With --economics: the GlobalParams address the requester deployed (p2p_contracts(deploy => true)); its admin is the vaults' slasher" };
        var stake = new Option<int>("--stake") { Description = "With --economics: whole TON each host stakes", DefaultValueFactory = _ => 1 };
        var price = new Option<int>("--price") { Description = "With --economics: each host's fixed price per job, whole TON", DefaultValueFactory = _ => 1 };
        var up = new Command("up", "Start a local loopback grid of host processes until SIGINT/SIGTERM; the hosts log each job on stderr");
        foreach (var o in new Option[] { hosts, cheaters, flaky, configRoot, basePort, verbose, quiet, dashboard, workload, economics, globalParams, stake, price })
        {
            up.Options.Add(o);
        }
        up.SetAction(parse => HostLog.Level(parse.GetValue(verbose), parse.GetValue(quiet)) is not { } level
            ? Usage("--verbose and --quiet exclude each other; give one")
            : parse.GetValue(dashboard) is < 0 or > 65535 ? Usage("--dashboard takes a port, 0..65535 (0 = any free port)")
            : parse.GetValue(workload) && parse.GetValue(dashboard) is null ? Usage("--workload runs on the dashboard's requester; add --dashboard PORT")
            : GridEconomics.Problem(parse.GetValue(economics), parse.GetValue(globalParams), parse.GetValue(stake), parse.GetValue(price)) is { } problem ? Usage(problem)
            : RunGrid(parse.GetValue(hosts), parse.GetValue(cheaters), parse.GetValue(flaky), parse.GetValue(configRoot), parse.GetValue(basePort), level,
                parse.GetValue(dashboard), parse.GetValue(workload),
                parse.GetValue(economics) is { } rpc ? new GridEconomics(rpc.Trim(), parse.GetValue(globalParams)!.Trim(), parse.GetValue(stake), parse.GetValue(price)) : null));
        var grid = new Command("grid", "Local demo grids");
        grid.Subcommands.Add(up);
        grid.Subcommands.Add(ChaosRunner.Command());
        return grid;
    }

    /// <summary>This program again (through <c>dotnet</c> when it runs as a .dll), for a host process.</summary>
    private static ProcessStartInfo StartSelf()
    {
        var self = Environment.GetCommandLineArgs()[0];
        return self.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? new ProcessStartInfo("dotnet") { ArgumentList = { self } } : new ProcessStartInfo(self);
    }

    /// <summary>Starts <c>duckton host</c> as a child process (exits when our end of its stdin closes) and waits for its ready line.</summary>
    public static (Process P, string Id, string Addr) StartChild(string configDirectory, string simulate, string? seed, int port = 0, params string[] extra)
    {
        Directory.CreateDirectory(configDirectory);
        var psi = StartSelf();
        // --quiet: a benchmark's thousands of jobs would otherwise log a line each on the shared stderr.
        foreach (var a in new[] { "host", "--config-dir", configDirectory, "--listen", $"127.0.0.1:{port}", "--exit-with-stdin", "--quiet", "--simulate", simulate })
        {
            psi.ArgumentList.Add(a);
        }
        if (seed is not null)
        {
            psi.ArgumentList.Add("--seed");
            psi.ArgumentList.Add(seed);
        }
        foreach (var a in extra)
        {
            psi.ArgumentList.Add(a);
        }
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardInput = true;
        psi.UseShellExecute = false;
        var p = Process.Start(psi)!;
        var line = p.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("ready ", StringComparison.Ordinal))
        {
            try
            {
                p.Kill();
            }
            catch (InvalidOperationException)
            {
            }
            throw new InvalidOperationException($"host in {configDirectory} did not start");
        }
        var parts = line.Split(' ');
        return (p, parts[1]["node_id=".Length..], parts[2]["listen=".Length..]);
    }

    private static int RunGrid(int hosts, int cheaters, int flaky, string? configRoot, int basePort, LogLevel logLevel, int? dashboardPort = null, bool workload = false,
        GridEconomics? paid = null)
    {
        if (hosts < 1 || cheaters < 0 || flaky < 0 || cheaters + flaky > hosts)
        {
            return Usage("need --hosts ≥ 1 and --cheaters + --flaky ≤ --hosts");
        }
        if (hosts > MaxGridHosts)
        {
            return Usage($"--hosts {hosts} is above the limit of {MaxGridHosts} for a local grid (each host is a process of its own, with its sandbox workers)");
        }
        if (basePort is < 0 or > 65535 - 1024)
        {
            return Usage("--base-port must be 0..64511");
        }
        if (basePort > 0 && basePort + hosts - 1 > 65535)
        {
            return Usage($"--base-port {basePort} with --hosts {hosts} runs past port 65535");
        }
        if (configRoot is not null)
        {
            try
            {
                Directory.CreateDirectory(configRoot);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                return Usage($"--config-root '{configRoot}' cannot be used as a directory: {e.Message}");
            }
        }
        using var logs = HostLog.Create(logLevel);
        var log = logs.CreateLogger("duckton.grid");
        // A root we create is ours to remove on exit; one the user named is left as it is.
        var ownRoot = configRoot is null;
        var root = configRoot ?? Directory.CreateTempSubdirectory("duckton-grid-").FullName;
        var verbosity = logLevel switch { LogLevel.Debug => "--verbose", LogLevel.Warning => "--quiet", _ => null };
        var children = new List<Process>();
        var seed = "";
        // Before the first host starts: a signal at any point from here on stops the hosts and removes the root.
        using var shutdown = new Shutdown(exitWithStdin: false);
        try
        {
            for (var i = 0; i < hosts; i++)
            {
                var fault = i >= hosts - cheaters ? SimulatedFault.Cheat : i >= hosts - cheaters - flaky ? SimulatedFault.Flaky : SimulatedFault.None;
                var dir = Path.Combine(root, $"host-{i}");
                Directory.CreateDirectory(dir);
                if (paid is not null)
                {
                    try
                    {
                        var staked = paid.Prepare(dir, log);
                        Console.Out.WriteLine($"host {i}: economics on ({paid.Rpc}); wallet {staked.Wallet} ({staked.WalletRaw}); staked {staked.StakedTon} TON in {staked.Vault}; price {paid.PriceTon} TON per job");
                        Console.Out.Flush();
                    }
                    catch (Exception e) when (e is Duckton.Node.Economics.EconomicsException or ConfigException or HttpRequestException or IOException or TaskCanceledException)
                    {
                        Console.Error.WriteLine($"Error: host {i}: economics setup failed: {e.Message}");
                        return 1;
                    }
                }
                var psi = StartSelf();
                foreach (var a in new[] { "host", "--config-dir", dir, "--listen", $"127.0.0.1:{(basePort == 0 ? 0 : basePort + i)}", "--exit-with-stdin", "--simulate", fault switch { SimulatedFault.Cheat => "cheat", SimulatedFault.Flaky => "flaky", _ => "none" } })
                {
                    psi.ArgumentList.Add(a);
                }
                if (seed.Length > 0)
                {
                    psi.ArgumentList.Add("--seed");
                    psi.ArgumentList.Add(seed);
                }
                if (verbosity is not null)
                {
                    psi.ArgumentList.Add(verbosity);
                }
                psi.RedirectStandardOutput = true;
                psi.RedirectStandardInput = true;
                psi.UseShellExecute = false;
                var p = Process.Start(psi)!;
                children.Add(p);
                var line = p.StandardOutput.ReadLine();
                if (line is null || !line.StartsWith("ready ", StringComparison.Ordinal))
                {
                    Console.Error.WriteLine($"Error: host {i} did not start");
                    return 1;
                }
                var listenAt = line[(line.IndexOf("listen=", StringComparison.Ordinal) + 7)..].Trim();
                var nodeId = line.Split(' ')[1]["node_id=".Length..];
                if (seed.Length == 0)
                {
                    seed = listenAt;
                }
                log.GridHostReady(i, p.Id, nodeId, listenAt);
                Console.Out.WriteLine($"{listenAt} node_id={nodeId} {Describe(fault)}");
                Console.Out.Flush();
            }
            Console.Out.WriteLine($"grid up: {hosts} hosts ({cheaters} SIMULATED cheaters, {flaky} SIMULATED flaky); join with p2p_join(bootstrap => ['{seed}']); config root {root}{(ownRoot ? " (temporary: removed on exit)" : "")}; Ctrl+C stops");
            Console.Out.Flush();
            if (dashboardPort is { } port)
            {
                // The requester is in-process: its trust store, engine and receipts are what the page shows.
                using var requester = GridDashboard.Start(Path.Combine(root, "requester"), seed, port, workload, log);
                if (requester is null)
                {
                    return 1;
                }
                shutdown.Wait();
                return 0;
            }
            shutdown.Wait();
            return 0;
        }
        finally
        {
            if (children.Count > 0)
            {
                log.GridStopping(children.Count);
            }
            // Close every host's stdin first so they all shut down at once, then wait for each.
            foreach (var p in children)
            {
                try
                {
                    p.StandardInput.Close();
                }
                catch (Exception e) when (e is InvalidOperationException or IOException)
                {
                }
            }
            for (var i = 0; i < children.Count; i++)
            {
                var p = children[i];
                try
                {
                    if (!p.WaitForExit(2000))
                    {
                        log.GridHostKilled(i, p.Id);
                        p.Kill();
                        p.WaitForExit(5000);
                    }
                }
                catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
                {
                }
                p.Dispose();
            }
            if (ownRoot)
            {
                try
                {
                    Directory.Delete(root, recursive: true);
                    log.GridRootRemoved(root);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    log.GridRootKept(root, e.Message);
                }
            }
        }
    }
}
