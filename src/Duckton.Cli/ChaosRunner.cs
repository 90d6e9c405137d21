using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Net.Sockets;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.DuckDB.Native;
using Duckton.Node;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Transport;

namespace Duckton.Cli;

/// <summary>
/// <c>duckton grid chaos --trials N [--hosts H] [--seed S]</c>: real host processes on loopback, a mix of honest hosts and
/// SIMULATED misbehaviour (a cheater, a colluding pair below the quorum, a split-view equivocator, a stream equivocator,
/// a staller, a crasher that SIGKILLs itself mid-stream), plus SIMULATED attackers inside this process (slot holders,
/// connection and offer flooders). Each trial is one verified query compared with the same query run locally; the
/// table counts wrong answers accepted, honest hosts wrongly penalised and queries that failed while an honest quorum
/// was available. Nothing here is part of the node library: the hosts misbehave only through the CLI's hidden
/// <c>--simulate</c> option.
/// </summary>
internal static class ChaosRunner
{
    /// <summary>Quorum 3 of 5 replicas: a colluding pair stays below the quorum, and up to two bad replicas are tolerated.</summary>
    public const int Quorum = 3;
    public const int Replicas = 5;
    public const int MaxTrials = 10_000_000;
    public const int MaxHosts = 64;
    public const int MinHosts = 3 + 2;

    /// <summary>Roles in the order hosts receive them: three honest hosts first (an honest quorum always exists), then the attackers, then more honest hosts.</summary>
    private static readonly string[] s_plan = ["none", "none", "none", "collude", "collude", "cheat", "split-view", "stall-commit", "die-stream", "equivocate"];

    /// <summary>A fresh requester (empty trust store) every this many trials: proven cheaters are excluded by evidence, so new requesters keep them in play.</summary>
    public const int TrialsPerRequester = 40;

    /// <summary>Each host donates 2 GB, 2 threads and 4 concurrent jobs (the default budget allows only 2 one-thread jobs).</summary>
    private static readonly string[] s_budget = ["--memory", "2GB", "--threads", "2", "--max-jobs", "4"];

    /// <summary>Most concurrent requesters (<c>--parallel</c>): each is a node of its own inside this process.</summary>
    public const int MaxParallel = 16;

    /// <summary>SIMULATED attacks running at once, per requester: the same attack pressure per trial whatever <c>--parallel</c> is.</summary>
    private const int AttacksPerRequester = 2;

    public static Command Command()
    {
        var trials = new Option<int>("--trials") { Description = $"Verified queries to run (1..{MaxTrials:N0})", Required = true };
        var hosts = new Option<int>("--hosts") { Description = $"Host processes ({MinHosts}..{MaxHosts}; 10 gives every role)", DefaultValueFactory = _ => 10 };
        var seed = new Option<int?>("--seed") { Description = "Seed of the trial plan (queries and attacks); default: random, printed" };
        var parallel = new Option<int>("--parallel")
        {
            Description = $"Requesters running trials at once against the same hosts, each with its own identity and configuration directory (1..{MaxParallel})",
            DefaultValueFactory = _ => 1,
        };
        var chaos = new Command("chaos", "Hostile-trial runner: real hosts with SIMULATED cheaters, colluders, equivocators, stallers, crashers and flooders; prints a table");
        chaos.Options.Add(trials);
        chaos.Options.Add(hosts);
        chaos.Options.Add(seed);
        chaos.Options.Add(parallel);
        chaos.SetAction(parse => Run(parse.GetValue(trials), parse.GetValue(hosts), parse.GetValue(seed) ?? Random.Shared.Next(), parse.GetValue(parallel), Console.Out));
        return chaos;
    }

    /// <summary>What the runner counts (updated by every requester under its own lock).</summary>
    internal sealed class Tally
    {
        public int Trials;
        public int Correct;
        public int WrongAccepted;
        public int WrongUnverified;
        public int Failed;
        public int FailedWithHonestQuorum;
        public int HonestPenalised;
        public int HonestTimeouts;
        public int DishonestWithEvidence;
        public int Crashes;
        public int Requesters;
        public readonly Dictionary<string, int> Attacks = new(StringComparer.Ordinal);
        public readonly Dictionary<string, int> FailureReasons = new(StringComparer.Ordinal);

        /// <summary>Where the runner's wall time went, summed over requesters (ticks of <see cref="Stopwatch"/>).</summary>
        public long SetupTicks, LocalTicks, FirstRemoteTicks, RemoteTicks, JudgeTicks;
        public int FirstRemotes;
    }

    /// <summary>The trial plan of trial <paramref name="trial"/>: its own generator, so the plan does not depend on which requester ran it.</summary>
    private static Random TrialRandom(int seed, int trial)
    {
        // splitmix64 of (seed, trial): neighbouring trials get unrelated generators.
        var z = unchecked(((ulong)(uint)seed << 32) + (ulong)(uint)trial + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return new Random(unchecked((int)(z ^ (z >> 31))));
    }

    public static int Run(int trials, int hosts, int seed, int parallel, TextWriter output)
    {
        if (trials is < 1 or > MaxTrials)
        {
            return HostCommands.Usage($"--trials must be 1..{MaxTrials:N0}");
        }
        if (hosts is < MinHosts or > MaxHosts)
        {
            return HostCommands.Usage($"--hosts must be {MinHosts}..{MaxHosts}");
        }
        if (parallel is < 1 or > MaxParallel)
        {
            return HostCommands.Usage($"--parallel must be 1..{MaxParallel}");
        }
        DuckDBNative.InitializeFromLibrary();
        var f = CultureInfo.InvariantCulture;
        var root = Directory.CreateTempSubdirectory("duckton-chaos-").FullName;
        var fleet = new List<Member>();
        var tally = new Tally();
        var wall = Stopwatch.StartNew();
        using var stopAttacks = new CancellationTokenSource();
        var attacks = new List<Task>();
        var nextTrial = -1;
        // SIGINT / SIGTERM: no new trial starts; the running ones finish, every requester is judged and the table printed.
        var stopping = false;
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            Volatile.Write(ref stopping, true);
        }
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        Task? restarter = null;
        try
        {
            output.WriteLine(string.Create(f,
                $"grid chaos: {trials:N0} trials, {hosts} hosts, {parallel} requester(s) at once, seed {seed}, quorum {Quorum} of {Replicas} replicas (all misbehaviour SIMULATED)"));
            // The first host is the seed; the others start in parallel (a host process takes seconds to start on a busy machine).
            Member Start(int i)
            {
                var role = i < s_plan.Length ? s_plan[i] : "none";
                var dir = Path.Combine(root, $"host-{i}");
                var (p, id, addr) = HostCommands.StartChild(dir, role, i > 0 ? fleet[0].Address : null, 0, s_budget);
                return new Member(role, dir, id, addr) { Process = p };
            }
            fleet.Add(Start(0));
            var rest = Enumerable.Range(1, hosts - 1).Select(i => Task.Run(() => Start(i))).ToArray();
            try
            {
                Task.WaitAll(rest);
            }
            finally
            {
                // Started hosts are stopped in the finally below even when another failed to start.
                fleet.AddRange(rest.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            }
            foreach (var m in fleet)
            {
                output.WriteLine($"  {m.Address} {m.NodeId[..15]} {(m.Honest ? "honest" : HostCommands.Describe(ParseRole(m.Role)))}");
            }
            output.Flush();
            // A crasher is restarted in the background as soon as it died, so no requester waits for a host to start.
            restarter = Task.Factory.StartNew(() => RestartLoop(fleet, tally, stopAttacks.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            // Requesters are started one ahead and retired in the background: joining (minting the identity's
            // proof of work, learning every host) and judging a trust store are the runner's own work, not a trial's.
            var retiring = new List<Task>();
            var directories = -1;
            // Both block on the node's synchronous API: on threads of their own, not the thread pool the nodes' I/O needs.
            Task<GridNode> Prepare() => Task.Factory.StartNew(() =>
            {
                var setup = Stopwatch.GetTimestamp();
                var node = NewRequester(root, Interlocked.Increment(ref directories), fleet);
                Interlocked.Add(ref tally.SetupTicks, Stopwatch.GetTimestamp() - setup);
                return node;
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

            void Requester()
            {
                GridNode? node = null;
                var next = Prepare();
                var ran = 0;
                try
                {
                    while (!Volatile.Read(ref stopping))
                    {
                        var t = Interlocked.Increment(ref nextTrial);
                        if (t >= trials)
                        {
                            break;
                        }
                        if (ran++ % TrialsPerRequester == 0)
                        {
                            if (node is not null)
                            {
                                var old = node;
                                lock (retiring)
                                {
                                    retiring.Add(Task.Factory.StartNew(() => Retire(old, fleet, tally), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
                                }
                            }
                            node = next.GetAwaiter().GetResult();
                            Interlocked.Increment(ref tally.Requesters);
                            next = Prepare();
                        }
                        var rng = TrialRandom(seed, t);
                        var attack = rng.Next(12) switch
                        {
                            0 => "slot-hold",
                            1 => "connection-flood",
                            2 => "offer-flood",
                            3 => "handshake-flood",
                            _ => null,
                        };
                        var target = fleet[rng.Next(fleet.Count)];
                        if (attack is not null)
                        {
                            lock (attacks)
                            {
                                attacks.RemoveAll(a => a.IsCompleted);
                                if (attacks.Count < AttacksPerRequester * parallel)
                                {
                                    lock (tally)
                                    {
                                        tally.Attacks[attack] = tally.Attacks.GetValueOrDefault(attack) + 1;
                                    }
                                    attacks.Add(Task.Run(() => AttackAsync(attack, target, stopAttacks.Token)));
                                }
                            }
                        }
                        var done = Trial(node!, rng, fleet, tally, first: ran % TrialsPerRequester == 1);
                        if (done % 500 == 0)
                        {
                            lock (output)
                            {
                                lock (tally)
                                {
                                    output.WriteLine(string.Create(f,
                                        $"  ... {done:N0} trials: {tally.Correct:N0} correct, {tally.WrongAccepted} wrong accepted, {tally.Failed} failed ({tally.FailedWithHonestQuorum} with an honest quorum available), honest penalised {tally.HonestPenalised} (requesters judged so far), {wall.Elapsed.TotalMinutes:F1} min"));
                                }
                                output.Flush();
                            }
                        }
                    }
                }
                finally
                {
                    if (node is not null)
                    {
                        Retire(node, fleet, tally);
                    }
                    // The requester started ahead ran no trial: nothing to judge.
                    try
                    {
                        next.GetAwaiter().GetResult().Dispose();
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                    }
                }
            }

            // One thread per requester: each runs its trials one after another, as a user's session would.
            Exception? laneFailure = null;
            var lanes = Enumerable.Range(0, parallel).Select(lane => new Thread(() =>
            {
                try
                {
                    Requester();
                }
                catch (Exception e)
                {
                    // The runner itself failed (not a query: those are counted): stop every requester and report it.
                    Interlocked.CompareExchange(ref laneFailure, e, null);
                    Volatile.Write(ref nextTrial, trials);
                }
            }) { IsBackground = true, Name = $"chaos requester {lane}" }).ToList();
            foreach (var lane in lanes)
            {
                lane.Start();
            }
            foreach (var lane in lanes)
            {
                lane.Join();
            }
            Task.WaitAll([.. retiring]);
            if (laneFailure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(laneFailure);
            }
            if (Volatile.Read(ref stopping))
            {
                output.WriteLine(string.Create(f, $"grid chaos: stopped early by a signal after {tally.Trials:N0} of {trials:N0} trials (every requester judged)"));
            }
            stopAttacks.Cancel();
            Task.WaitAll([.. attacks], TimeSpan.FromSeconds(10));
            Print(tally, hosts, seed, parallel, wall.Elapsed, output);
            return tally.WrongAccepted == 0 && tally.HonestPenalised == 0 ? 0 : 1;
        }
        finally
        {
            stopAttacks.Cancel();
            try
            {
                restarter?.Wait(TimeSpan.FromSeconds(30));
            }
            catch (AggregateException)
            {
            }
            foreach (var m in fleet)
            {
                lock (m)
                {
                    m.Stop();
                }
            }
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    private static SimulatedFault ParseRole(string role) => role switch
    {
        "cheat" => SimulatedFault.Cheat,
        "collude" => SimulatedFault.Collude,
        "split-view" => SimulatedFault.SplitView,
        "equivocate" => SimulatedFault.Equivocate,
        "stall-commit" => SimulatedFault.StallCommit,
        "die-stream" => SimulatedFault.DieStream,
        _ => SimulatedFault.None,
    };

    private sealed class Member(string role, string directory, string nodeId, string address)
    {
        public string Role { get; } = role;
        public string Directory { get; } = directory;
        public string NodeId { get; } = nodeId;
        public string Address { get; set; } = address;
        public Process? Process { get; set; }
        public bool Honest => Role == "none";

        /// <summary>The host process is up (a crasher is briefly not, between its SIGKILL and its restart).</summary>
        public bool Running
        {
            get
            {
                try
                {
                    return Process is { HasExited: false };
                }
                catch (InvalidOperationException)
                {
                    // Read while the restarter disposed of the dead process.
                    return false;
                }
            }
        }

        public void Stop()
        {
            if (Process is not { } p)
            {
                return;
            }
            try
            {
                p.StandardInput.Close();
                if (!p.WaitForExit(3000))
                {
                    p.Kill();
                    p.WaitForExit(3000);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
            {
            }
            p.Dispose();
            Process = null;
        }
    }

    /// <summary>
    /// A fresh requester (its own identity, configuration directory and trust store) that knows every running host before
    /// its first trial: a query started before gossip finished would count as a failure.
    /// </summary>
    private static GridNode NewRequester(string root, int n, List<Member> fleet)
    {
        var store = new ConfigStore(Path.Combine(root, $"requester-{n}"));
        store.Set("scheduler.quorum", Quorum.ToString(CultureInfo.InvariantCulture));
        store.Set("scheduler.replicas", Replicas.ToString(CultureInfo.InvariantCulture));
        store.Set("scheduler.offer_timeout_ms", "5000");
        var node = new GridNode(new GridNodeOptions { ConfigDirectory = store.ConfigDirectory, Config = store });
        node.Join([fleet[0].Address]);
        var learning = Stopwatch.StartNew();
        // Every running host must be known and believed alive (on a loaded machine that can take a while; a requester
        // that started its trials knowing no host would count failures the hosts did not cause). A crasher being
        // restarted is not waited for: it is learned by gossip when it is back.
        while (node.Grid.Membership.Live().Count(p => p.State == PeerState.Alive) < fleet.Count(m => m.Running) && learning.Elapsed < TimeSpan.FromSeconds(120))
        {
            node.Grid.GossipRoundAsync().GetAwaiter().GetResult();
            Thread.Sleep(50);
        }
        return node;
    }

    /// <summary>Judges a requester's trust store, then disposes of it.</summary>
    private static void Retire(GridNode node, List<Member> fleet, Tally tally)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            Judge(node, fleet, tally);
        }
        finally
        {
            node.Dispose();
            Interlocked.Add(ref tally.JudgeTicks, Stopwatch.GetTimestamp() - started);
        }
    }

    /// <summary>A crasher SIGKILLed itself mid-stream: start it again at once on the same configuration directory (same identity).</summary>
    private static void RestartLoop(List<Member> fleet, Tally tally, CancellationToken stop)
    {
        while (!stop.WaitHandle.WaitOne(100))
        {
            foreach (var m in fleet.Where(m => m.Process is { HasExited: true }))
            {
                lock (m)
                {
                    if (stop.IsCancellationRequested)
                    {
                        return;
                    }
                    Interlocked.Increment(ref tally.Crashes);
                    var dead = m.Process!;
                    m.Process = null;
                    dead.Dispose();
                    var port = int.Parse(m.Address[(m.Address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
                    string addr;
                    Process p;
                    try
                    {
                        (p, _, addr) = HostCommands.StartChild(m.Directory, m.Role, fleet[0].Address, port, s_budget);
                    }
                    catch (InvalidOperationException)
                    {
                        // The port may still be held for a moment: take another one (gossip spreads the new address).
                        (p, _, addr) = HostCommands.StartChild(m.Directory, m.Role, fleet[0].Address, 0, s_budget);
                    }
                    m.Address = addr;
                    m.Process = p;
                }
            }
        }
    }

    private static string Query(Random rng) => rng.Next(4) switch
    {
        0 => string.Create(CultureInfo.InvariantCulture, $"SELECT {rng.Next(1, 1_000_000)} AS answer"),
        1 => string.Create(CultureInfo.InvariantCulture,
            $"SELECT i % {rng.Next(2, 40)} AS k, count(*) AS n, sum((i * {rng.Next(2, 1000)}) % {rng.Next(7, 997)}) AS s FROM range({rng.Next(100, 20_000)}) t(i) GROUP BY ALL ORDER BY k"),
        2 => string.Create(CultureInfo.InvariantCulture, $"SELECT 'v' || i AS s, i * {rng.Next(1, 99)} AS x FROM range({rng.Next(1, 3000)}) t(i) ORDER BY i"),
        _ => string.Create(CultureInfo.InvariantCulture, $"SELECT sum(i)::DOUBLE / {rng.Next(1, 50)} AS avg_ish, max(i) AS m FROM range({rng.Next(1, 100_000)}) t(i)"),
    };

    /// <summary>One trial; returns how many trials have finished (this one included).</summary>
    private static int Trial(GridNode node, Random rng, List<Member> fleet, Tally tally, bool first)
    {
        var sql = Query(rng);
        var started = Stopwatch.GetTimestamp();
        using var expected = node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Local }).Result;
        var remote = Stopwatch.GetTimestamp();
        Interlocked.Add(ref tally.LocalTicks, remote - started);
        string? failure = null;
        var honestQuorum = false;
        var verdict = 0;
        try
        {
            var outcome = node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Remote, TimeoutMs = 60_000 });
            using var got = outcome.Result;
            verdict = BatchComparer.Difference(expected, got) is null ? 0 : outcome.Meta.Verified ? 1 : 2;
        }
        catch (QueryFailedException e)
        {
            failure = e.Message.Length > 90 ? e.Message[..90] : e.Message;
            // Every honest host runs throughout (only the crasher dies), so an honest quorum was available whenever
            // at least q honest processes were alive.
            honestQuorum = fleet.Count(m => m.Honest && m.Running) >= Quorum;
        }
        var elapsed = Stopwatch.GetTimestamp() - remote;
        lock (tally)
        {
            tally.Trials++;
            if (first)
            {
                tally.FirstRemoteTicks += elapsed;
                tally.FirstRemotes++;
            }
            else
            {
                tally.RemoteTicks += elapsed;
            }
            if (failure is not null)
            {
                tally.Failed++;
                tally.FailedWithHonestQuorum += honestQuorum ? 1 : 0;
                tally.FailureReasons[failure] = tally.FailureReasons.GetValueOrDefault(failure) + 1;
            }
            else if (verdict == 0)
            {
                tally.Correct++;
            }
            else if (verdict == 1)
            {
                tally.WrongAccepted++;
            }
            else
            {
                tally.WrongUnverified++;
            }
            return tally.Trials;
        }
    }

    /// <summary>What one requester's trust store says about the hosts: penalties or evidence against honest hosts, evidence against the others.</summary>
    private static void Judge(GridNode node, List<Member> fleet, Tally tally)
    {
        var store = node.TrustStore;
        var evidence = node.Trust.EvidenceByHost();
        lock (tally)
        {
            JudgeLocked(store, evidence, fleet, tally);
        }
    }

    private static void JudgeLocked(TrustStore store, IReadOnlyDictionary<string, string> evidence, List<Member> fleet, Tally tally)
    {
        foreach (var m in fleet)
        {
            var receipts = store.Receipts(m.NodeId, limit: 100_000);
            if (m.Honest)
            {
                var wrongly = receipts.Count(r => r.Verdict is Verdict.Incorrect or Verdict.Malformed) + (store.Penalties(m.NodeId) > 0 ? 1 : 0)
                    + (evidence.ContainsKey(m.NodeId) ? 1 : 0);
                tally.HonestPenalised += wrongly;
                tally.HonestTimeouts += receipts.Count(r => r.Verdict == Verdict.Timeout);
            }
            else if (evidence.ContainsKey(m.NodeId))
            {
                tally.DishonestWithEvidence++;
            }
        }
    }

    private static void Print(Tally t, int hosts, int seed, int parallel, TimeSpan elapsed, TextWriter o)
    {
        var f = CultureInfo.InvariantCulture;
        o.WriteLine();
        o.WriteLine(string.Create(f,
            $"grid chaos results (seed {seed}, {hosts} hosts, quorum {Quorum}/{Replicas}, {t.Requesters} requesters, {parallel} at once, {elapsed.TotalMinutes:F1} min)"));
        o.WriteLine("| measure | count |");
        o.WriteLine("|---|---:|");
        void Row(string name, long value) => o.WriteLine(string.Create(f, $"| {name} | {value:N0} |"));
        Row("trials (verified queries attempted)", t.Trials);
        Row("correct answers", t.Correct);
        Row("wrong answers accepted as verified", t.WrongAccepted);
        Row("wrong answers returned unverified", t.WrongUnverified);
        Row("queries failed", t.Failed);
        Row("queries failed while an honest quorum was available", t.FailedWithHonestQuorum);
        Row("honest hosts wrongly penalised (Incorrect/Malformed receipts, penalties, evidence)", t.HonestPenalised);
        Row("Timeout receipts about honest hosts (not penalties)", t.HonestTimeouts);
        Row("dishonest hosts excluded by evidence (summed over requesters)", t.DishonestWithEvidence);
        Row("crasher SIGKILLs (restarted)", t.Crashes);
        foreach (var (name, n) in t.Attacks.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            Row($"SIMULATED {name} attacks", n);
        }
        foreach (var (reason, n) in t.FailureReasons.OrderByDescending(r => r.Value).Take(5))
        {
            o.WriteLine(string.Create(f, $"  failure x{n}: {reason}"));
        }
        // Where the time went, summed over requesters (with --parallel P the sum is about P times the wall time).
        static double Ms(long ticks, int n) => n == 0 ? 0 : ticks * 1000.0 / Stopwatch.Frequency / n;
        var later = t.Trials - t.FirstRemotes;
        o.WriteLine(string.Create(f,
            $"  time per trial: {elapsed.TotalMilliseconds / Math.Max(1, t.Trials):F0} ms wall; per requester: remote query {Ms(t.RemoteTicks, later):F0} ms (a new requester's first, with canary vetting: {Ms(t.FirstRemoteTicks, t.FirstRemotes):F0} ms), local comparison {Ms(t.LocalTicks, t.Trials):F0} ms, requester start {Ms(t.SetupTicks, t.Requesters):F0} ms and retirement {Ms(t.JudgeTicks, t.Requesters):F0} ms each (both off the trials' path)"));
        o.Flush();
    }

    // ------------------------------------------------------------------ SIMULATED attackers

    /// <summary>How long one attack lasts.</summary>
    private static readonly TimeSpan s_attackLength = TimeSpan.FromSeconds(3);

    private static async Task AttackAsync(string kind, Member target, CancellationToken stop)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(stop);
        bound.CancelAfter(s_attackLength);
        try
        {
            switch (kind)
            {
                case "slot-hold":
                    await SlotHoldAsync(target, bound.Token).ConfigureAwait(false);
                    break;
                case "connection-flood":
                    await ConnectionFloodAsync(target, bound.Token).ConfigureAwait(false);
                    break;
                case "offer-flood":
                    await OfferFloodAsync(target, bound.Token).ConfigureAwait(false);
                    break;
                default:
                    await HandshakeFloodAsync(target, bound.Token).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception)
        {
            // The host refused, closed or outlasted the attack (whatever the exception): that is what the table is
            // about, not an error of the runner.
        }
    }

    private static Task<PeerConnection> ConnectAsync(Member target, CancellationToken ct) =>
        PeerConnector.ConnectAsync(NodeIdentity.Create(), target.Address, target.NodeId, TransportOptions.Default, ct);

    /// <summary>A throwaway identity offers and dispatches <c>SELECT 1</c> three times and never fetches (finding 1).</summary>
    private static async Task SlotHoldAsync(Member target, CancellationToken ct)
    {
        await using var c = await ConnectAsync(target, ct).ConfigureAwait(false);
        for (var i = 0; i < 3; i++)
        {
            var jobId = JobIds.NewJobId();
            const string Sql = "SELECT 1";
            var queryHash = JobIds.QueryHash(GridNode.EngineVersion, Sql);
            await c.SendAsync(MessageType.Offer, new OfferMessage(jobId, queryHash, WireDataClass.Public, (ulong)Random.Shared.NextInt64(), 1 << 20, 1, "", [], []).Encode(), ct)
                .ConfigureAwait(false);
            var reply = await c.ReceiveAsync(ct).ConfigureAwait(false);
            if (reply.Type != MessageType.Bid)
            {
                continue;
            }
            await c.SendAsync(MessageType.Dispatch, new DispatchMessage(jobId, queryHash, Sql, 1 << 20, 1, 60_000, 0, []).Encode(), ct).ConfigureAwait(false);
        }
        await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
    }

    /// <summary>Many authenticated connections that then sit idle (finding 2).</summary>
    private static async Task ConnectionFloodAsync(Member target, CancellationToken ct)
    {
        var open = new List<PeerConnection>();
        try
        {
            var identity = NodeIdentity.Create();
            for (var i = 0; i < 64 && !ct.IsCancellationRequested; i++)
            {
                open.Add(await PeerConnector.ConnectAsync(identity, target.Address, target.NodeId, TransportOptions.Default, ct).ConfigureAwait(false));
            }
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        }
        finally
        {
            foreach (var c in open)
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Plain TCP sockets that never start TLS (finding 3, handshake slowloris).</summary>
    private static async Task HandshakeFloodAsync(Member target, CancellationToken ct)
    {
        var sockets = new List<TcpClient>();
        try
        {
            var colon = target.Address.LastIndexOf(':');
            var host = target.Address[..colon];
            var port = int.Parse(target.Address[(colon + 1)..], CultureInfo.InvariantCulture);
            for (var i = 0; i < 256 && !ct.IsCancellationRequested; i++)
            {
                var s = new TcpClient();
                sockets.Add(s);
                await s.ConnectAsync(host, port, ct).ConfigureAwait(false);
            }
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        }
        finally
        {
            foreach (var s in sockets)
            {
                s.Dispose();
            }
        }
    }

    /// <summary>Offers with unique job ids as fast as the connection takes them, replies read and dropped (finding 6).</summary>
    private static async Task OfferFloodAsync(Member target, CancellationToken ct)
    {
        await using var c = await ConnectAsync(target, ct).ConfigureAwait(false);
        var drain = Task.Run(async () =>
        {
            while (!ct.IsCancellationRequested)
            {
                await c.ReceiveAsync(ct).ConfigureAwait(false);
            }
        }, ct);
        var queryHash = JobIds.QueryHash(GridNode.EngineVersion, "SELECT 1");
        while (!ct.IsCancellationRequested && !drain.IsCompleted)
        {
            await c.SendAsync(MessageType.Offer, new OfferMessage(JobIds.NewJobId(), queryHash, WireDataClass.Public, (ulong)Random.Shared.NextInt64(), 1 << 20, 1, "", [], []).Encode(), ct)
                .ConfigureAwait(false);
        }
        try
        {
            await drain.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or ProtocolException)
        {
        }
    }
}
