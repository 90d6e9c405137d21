using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.DuckDB.Native;
using Duckton.Node;
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

    public static Command Command()
    {
        var trials = new Option<int>("--trials") { Description = $"Verified queries to run (1..{MaxTrials:N0})", Required = true };
        var hosts = new Option<int>("--hosts") { Description = $"Host processes ({MinHosts}..{MaxHosts}; 10 gives every role)", DefaultValueFactory = _ => 10 };
        var seed = new Option<int?>("--seed") { Description = "Seed of the trial plan (queries and attacks); default: random, printed" };
        var chaos = new Command("chaos", "Hostile-trial runner: real hosts with SIMULATED cheaters, colluders, equivocators, stallers, crashers and flooders; prints a table");
        chaos.Options.Add(trials);
        chaos.Options.Add(hosts);
        chaos.Options.Add(seed);
        chaos.SetAction(parse => Run(parse.GetValue(trials), parse.GetValue(hosts), parse.GetValue(seed) ?? Random.Shared.Next(), Console.Out));
        return chaos;
    }

    /// <summary>What the runner counts.</summary>
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
    }

    public static int Run(int trials, int hosts, int seed, TextWriter output)
    {
        if (trials is < 1 or > MaxTrials)
        {
            return HostCommands.Usage($"--trials must be 1..{MaxTrials:N0}");
        }
        if (hosts is < MinHosts or > MaxHosts)
        {
            return HostCommands.Usage($"--hosts must be {MinHosts}..{MaxHosts}");
        }
        DuckDBNative.InitializeFromLibrary();
        var f = CultureInfo.InvariantCulture;
        var rng = new Random(seed);
        var root = Directory.CreateTempSubdirectory("duckton-chaos-").FullName;
        var fleet = new List<Member>();
        var tally = new Tally();
        var wall = Stopwatch.StartNew();
        using var stopAttacks = new CancellationTokenSource();
        var attacks = new List<Task>();
        GridNode? node = null;
        try
        {
            output.WriteLine(string.Create(f, $"grid chaos: {trials:N0} trials, {hosts} hosts, seed {seed}, quorum {Quorum} of {Replicas} replicas (all misbehaviour SIMULATED)"));
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
            var honest = fleet.Where(m => m.Honest).Select(m => m.NodeId).ToHashSet(StringComparer.Ordinal);
            output.Flush();
            for (var t = 0; t < trials; t++)
            {
                if (t % TrialsPerRequester == 0)
                {
                    if (node is not null)
                    {
                        Judge(node, fleet, tally);
                        node.Dispose();
                    }
                    node = NewRequester(root, tally.Requesters++, fleet[0].Address, fleet.Count);
                }
                RestartCrashed(fleet, tally);
                attacks.RemoveAll(a => a.IsCompleted);
                var attack = rng.Next(12) switch
                {
                    0 => "slot-hold",
                    1 => "connection-flood",
                    2 => "offer-flood",
                    3 => "handshake-flood",
                    _ => null,
                };
                if (attack is not null && attacks.Count < 2)
                {
                    var target = fleet[rng.Next(fleet.Count)];
                    tally.Attacks[attack] = tally.Attacks.GetValueOrDefault(attack) + 1;
                    attacks.Add(Task.Run(() => AttackAsync(attack, target, stopAttacks.Token)));
                }
                Trial(node!, rng, fleet, honest, tally);
                if ((t + 1) % 500 == 0)
                {
                    output.WriteLine(string.Create(f,
                        $"  ... {t + 1:N0} trials: {tally.Correct:N0} correct, {tally.WrongAccepted} wrong accepted, {tally.Failed} failed ({tally.FailedWithHonestQuorum} with an honest quorum available), honest penalised {tally.HonestPenalised} (requesters judged so far), {wall.Elapsed.TotalMinutes:F1} min"));
                    output.Flush();
                }
            }
            Judge(node!, fleet, tally);
            stopAttacks.Cancel();
            Task.WaitAll([.. attacks], TimeSpan.FromSeconds(10));
            Print(tally, hosts, seed, wall.Elapsed, output);
            return tally.WrongAccepted == 0 && tally.HonestPenalised == 0 ? 0 : 1;
        }
        finally
        {
            stopAttacks.Cancel();
            node?.Dispose();
            foreach (var m in fleet)
            {
                m.Stop();
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

    private static GridNode NewRequester(string root, int n, string seed, int hosts)
    {
        var store = new ConfigStore(Path.Combine(root, $"requester-{n}"));
        store.Set("scheduler.quorum", Quorum.ToString(CultureInfo.InvariantCulture));
        store.Set("scheduler.replicas", Replicas.ToString(CultureInfo.InvariantCulture));
        store.Set("scheduler.offer_timeout_ms", "5000");
        var node = new GridNode(new GridNodeOptions { ConfigDirectory = store.ConfigDirectory, Config = store });
        node.Join([seed]);
        // Learn every host before the first trial: a query started before gossip finished would count as a failure.
        var learning = Stopwatch.StartNew();
        while (node.Grid.Membership.Live().Count < hosts && learning.Elapsed < TimeSpan.FromSeconds(30))
        {
            node.Grid.GossipRoundAsync().GetAwaiter().GetResult();
            Thread.Sleep(200);
        }
        return node;
    }

    /// <summary>A crasher SIGKILLed itself mid-stream: start it again on the same configuration directory (same identity).</summary>
    private static void RestartCrashed(List<Member> fleet, Tally tally)
    {
        foreach (var m in fleet.Where(m => m.Process is { HasExited: true }))
        {
            tally.Crashes++;
            m.Process!.Dispose();
            var port = m.Address[(m.Address.LastIndexOf(':') + 1)..];
            try
            {
                var (p, _, addr) = HostCommands.StartChild(m.Directory, m.Role, fleet[0].Address, int.Parse(port, CultureInfo.InvariantCulture), s_budget);
                m.Process = p;
                m.Address = addr;
            }
            catch (InvalidOperationException)
            {
                // The port may still be held for a moment: try again before the next trial.
                m.Process = null;
                var (p, _, addr) = HostCommands.StartChild(m.Directory, m.Role, fleet[0].Address, 0, s_budget);
                m.Process = p;
                m.Address = addr;
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

    private static void Trial(GridNode node, Random rng, List<Member> fleet, HashSet<string> honest, Tally tally)
    {
        tally.Trials++;
        var sql = Query(rng);
        using var expected = node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Local }).Result;
        try
        {
            var outcome = node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Remote, TimeoutMs = 60_000 });
            using var got = outcome.Result;
            var wrong = BatchComparer.Difference(expected, got) is not null;
            if (!wrong)
            {
                tally.Correct++;
            }
            else if (outcome.Meta.Verified)
            {
                tally.WrongAccepted++;
            }
            else
            {
                tally.WrongUnverified++;
            }
        }
        catch (QueryFailedException e)
        {
            tally.Failed++;
            // Every honest host runs throughout (only the crasher dies), so an honest quorum was available whenever
            // at least q honest processes were alive.
            if (fleet.Count(m => m.Honest && m.Process is { HasExited: false }) >= Quorum)
            {
                tally.FailedWithHonestQuorum++;
            }
            var reason = e.Message.Length > 90 ? e.Message[..90] : e.Message;
            tally.FailureReasons[reason] = tally.FailureReasons.GetValueOrDefault(reason) + 1;
        }
    }

    /// <summary>What one requester's trust store says about the hosts: penalties or evidence against honest hosts, evidence against the others.</summary>
    private static void Judge(GridNode node, List<Member> fleet, Tally tally)
    {
        var store = node.TrustStore;
        var evidence = node.Trust.EvidenceByHost();
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

    private static void Print(Tally t, int hosts, int seed, TimeSpan elapsed, TextWriter o)
    {
        var f = CultureInfo.InvariantCulture;
        o.WriteLine();
        o.WriteLine(string.Create(f, $"grid chaos results (seed {seed}, {hosts} hosts, quorum {Quorum}/{Replicas}, {t.Requesters} requesters, {elapsed.TotalMinutes:F1} min)"));
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
