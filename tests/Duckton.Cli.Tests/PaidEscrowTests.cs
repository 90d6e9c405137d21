using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Node.Economics;
using Duckton.Transport;
using Duckton.Ton;

namespace Duckton.Cli.Tests;

/// <summary>
/// A paid job's escrow is funded before any row moves, through real processes on `duckton chain up` (the local emulator;
/// no real TON): a host that bills refuses to stream against no escrow, an undeployed one or one below its bill, and
/// streams against a funded one; a requester killed between open and settle settles (rows verified) or refunds (past the
/// deadline) on its next start, paying nobody twice; and every bad input gets a clear error with no money moved.
/// </summary>
public sealed partial class PaidEscrowTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-paid-escrow-").FullName;
    private readonly List<Process> _processes = [];

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(10_000);
            }
            p.Dispose();
        }
        Directory.Delete(_dir, recursive: true);
    }

    private string Requester => Path.Combine(_dir, "requester");

    private string GridRoot => Path.Combine(_dir, "grid");

    private static string Dll => Path.Combine(AppContext.BaseDirectory, "duckton.dll");

    private static CliRunner.Result Run(string configDir, IDictionary<string, string>? env, params string[] commands) =>
        CliRunner.Run("dotnet", [Dll, "sql", "--config-dir", configDir, "--format", "jsonlines", .. commands.SelectMany(c => new[] { "-c", c })],
            timeout: TimeSpan.FromMinutes(4), env: env);

    private static List<JsonObject> Sql(string configDir, params string[] commands)
    {
        var r = Run(configDir, null, commands);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        return Rows(r);
    }

    private static List<JsonObject> Rows(CliRunner.Result r) =>
        r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    private static string On(LocalChainProcess chain) => $"SELECT enabled FROM p2p_economics(enabled => true, network => 'local', rpc => '{chain.Rpc}')";

    private static string WalletOf(string dir, params string[] before) =>
        (string)Sql(dir, [.. before, "SELECT address_raw FROM p2p_wallet(node_key => true)"]).Single(r => r.ContainsKey("address_raw"))["address_raw"]!;

    private Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi)!;
        _processes.Add(p);
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        return p;
    }

    private static string WaitFor(Process p, Regex pattern)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(3))
        {
            var read = p.StandardOutput.ReadLineAsync();
            if (!read.Wait(TimeSpan.FromMinutes(3) - waited.Elapsed) || read.Result is not { } line)
            {
                break;
            }
            if (pattern.Match(line) is { Success: true } m)
            {
                _ = p.StandardOutput.ReadToEndAsync();
                return m.Groups[1].Value;
            }
        }
        throw new InvalidOperationException($"the process did not print {pattern}");
    }

    [GeneratedRegex(@"p2p_join\(bootstrap => \['([^']+)'\]\)")]
    private static partial Regex Seed();

    [GeneratedRegex(@"^ready node_id=\S+ listen=(\S+)")]
    private static partial Regex Ready();

    /// <summary>The requester (its wallet funded, GlobalParams deployed with <paramref name="treasury"/> as fee recipient); returns GlobalParams' address.</summary>
    private async Task<(string Wallet, string GlobalParams)> RequesterAsync(LocalChainProcess chain, string treasury)
    {
        var wallet = WalletOf(Requester, On(chain), $"SELECT * FROM p2p_set('economics.fee_recipient', '{treasury}')", "SELECT rail FROM p2p_economics(rail => 'ton')");
        await chain.FundAsync(wallet, 20_000_000_000);
        var gp = (string)Sql(Requester, "SELECT contract, address FROM p2p_contracts(deploy => true)").Single(r => (string)r["contract"]! == "GlobalParams")["address"]!;
        return (wallet, gp);
    }

    /// <summary>A host's config dir: on the on-chain rail, charging <paramref name="tonPerJob"/> TON per job, its node-key wallet deployed (a 1 TON stake).</summary>
    private static async Task<string> HostAsync(LocalChainProcess chain, string dir, string globalParams, string treasury, int tonPerJob)
    {
        Directory.CreateDirectory(dir);
        var wallet = WalletOf(dir, On(chain), $"SELECT * FROM p2p_set('economics.fee_recipient', '{treasury}')", "SELECT rail FROM p2p_economics(rail => 'ton')", $"SELECT * FROM p2p_set('economics.local.contracts.global_params', '{globalParams}')",
            "SELECT * FROM p2p_set('economics.pricing.model', 'fixed')", $"SELECT * FROM p2p_set('economics.pricing.unit_price', '{tonPerJob}')");
        await chain.FundAsync(wallet, 3_000_000_000);
        Assert.Equal(1_000_000_000L, (long)Sql(dir, "SELECT staked_nanoton FROM p2p_stake(1)").Single(r => r.ContainsKey("staked_nanoton"))["staked_nanoton"]!);
        return wallet;
    }

    private static async Task<Frame> Next(PeerConnection c) => await c.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));

    /// <summary>Offer (paid), Dispatch at the host's 1 TON price, and the host's signed commit.</summary>
    private static async Task<CommitMessage> PaidCommitAsync(PeerConnection c, string jobId, string sql)
    {
        var queryHash = JobIds.QueryHash(Duckton.Node.GridNode.EngineVersion, sql);
        await c.SendAsync(MessageType.Offer, new OfferMessage(jobId, queryHash, WireDataClass.Public, 7, 64 << 20, 1, "", [], []) { Paid = true, MaxBidNanoton = 2_000_000_000 }.Encode());
        var bid = await Next(c);
        Assert.True(bid.Type == MessageType.Bid, bid.Type == MessageType.Decline ? ReasonMessage.Decode(bid.Payload.Span).Reason : bid.Type.ToString());
        await c.SendAsync(MessageType.Dispatch, new DispatchMessage(jobId, queryHash, sql, 64 << 20, 1, 30_000, 0, []) { AgreedPriceNanoton = 1_000_000_000 }.Encode());
        var answer = await Next(c);
        Assert.True(answer.Type == MessageType.Commit, answer.Type == MessageType.Error ? ErrorMessage.Decode(answer.Payload.Span).Message : answer.Type.ToString());
        var commit = CommitMessage.Decode(answer.Payload.Span);
        Assert.Equal(1_000_000_000UL, commit.ClaimedPriceNanoton);
        return commit;
    }

    /// <summary>Fetch (naming <paramref name="escrow"/> or none); returns the host's refusal, or null when it streamed the whole result.</summary>
    private static async Task<string?> FetchAsync(PeerConnection c, string jobId, FetchEscrow? escrow)
    {
        await c.SendAsync(MessageType.Fetch, new FetchMessage(jobId, 64) { Escrow = escrow }.Encode());
        while (true)
        {
            var f = await Next(c);
            switch (f.Type)
            {
                case MessageType.Error:
                    return ErrorMessage.Decode(f.Payload.Span).Message;
                case MessageType.End:
                    Assert.Equal(EndStatus.Complete, EndMessage.Decode(f.Payload.Span).Status);
                    return null;
                case MessageType.Batch:
                    continue;
                default:
                    throw new InvalidOperationException($"unexpected {f.Type}");
            }
        }
    }

    [Fact]
    public async Task A_host_that_bills_streams_no_row_before_its_escrow_is_funded_for_its_bill()
    {
        await using var chain = await LocalChainProcess.StartAsync();
        var treasury = WalletOf(Path.Combine(_dir, "treasury"), On(chain));
        var (requesterWallet, globalParams) = await RequesterAsync(chain, treasury);
        var hostDir = Path.Combine(_dir, "host");
        var hostWallet = await HostAsync(chain, hostDir, globalParams, treasury, 1);
        var host = Start("host", "--config-dir", hostDir, "--listen", "127.0.0.1:0", "--exit-with-stdin");
        var address = WaitFor(host, Ready());
        var hostBefore = await chain.BalanceAsync(hostWallet);

        // A raw requester (no grid code on this side): its own identity, the escrows opened from the requester's wallet.
        Duckton.DuckDB.Native.DuckDBNative.InitializeFromLibrary(); // the engine version the query hash binds to
        using var me = NodeIdentity.Create();
        await using var c = await PeerConnector.ConnectAsync(me, address, null, new TransportOptions { HandshakeTimeout = TimeSpan.FromSeconds(30) });
        using var economics = new EconomicsHost(new ConfigStore(Requester));
        var settlement = new EscrowSettlement(economics.Runtime());

        // No escrow named: refused, naming why.
        var job = JobIds.NewJobId();
        await PaidCommitAsync(c, job, "SELECT 1 AS a");
        var refused = await FetchAsync(c, job, null);
        Assert.NotNull(refused);
        Assert.StartsWith("escrow: not funded:", refused, StringComparison.Ordinal);
        Assert.Contains("names none", refused, StringComparison.Ordinal);

        // An escrow funded below the host's bill (base 0.5 TON: B = 0.575 TON < 1.15 TON): refused as below its bill.
        job = JobIds.NewJobId();
        var commit = await PaidCommitAsync(c, job, "SELECT 2 AS a");
        var hash = Duckton.Core.Hashing.Blake3.Hash(System.Text.Encoding.UTF8.GetBytes(commit.ResultHash));
        var payee = Duckton.Ton.Addresses.TonAddress.Parse(hostWallet);
        var low = await settlement.OpenAsync(job, hash, payee, [], Coins.FromTon(0.5m));
        Assert.Equal(575_000_000, low.AmountNanoton);
        Assert.InRange(await chain.BalanceAsync(low.Escrow), 575_000_000, 575_000_000 + (long)EscrowSettlement.DeployBuffer.Nanoton);
        refused = await FetchAsync(c, job, EscrowGate.ToWire(low));
        Assert.NotNull(refused);
        Assert.StartsWith("escrow: below its bill:", refused, StringComparison.Ordinal);

        // Terms whose escrow was never deployed (another amount gives another address): refused as not funded.
        job = JobIds.NewJobId();
        commit = await PaidCommitAsync(c, job, "SELECT 3 AS a");
        var ghost = EscrowGate.ToWire(low) with
        {
            ExpectedHash = Duckton.Core.Hashing.Blake3.Hash(System.Text.Encoding.UTF8.GetBytes(commit.ResultHash)), AmountNanoton = 1_150_000_000,
        };
        refused = await FetchAsync(c, job, ghost);
        Assert.NotNull(refused);
        Assert.StartsWith("escrow: not funded: no escrow is deployed at", refused, StringComparison.Ordinal);

        // The escrow of another result (its expected hash is not this commit's): wrong terms.
        job = JobIds.NewJobId();
        await PaidCommitAsync(c, job, "SELECT 5 AS a");
        refused = await FetchAsync(c, job, EscrowGate.ToWire(low));
        Assert.NotNull(refused);
        Assert.StartsWith("escrow: wrong terms: the escrow's expected hash", refused, StringComparison.Ordinal);

        // Funded for its bill: the rows stream. B = 1 TON + 15 % fee = 1.15 TON is on chain at the escrow's address.
        job = JobIds.NewJobId();
        commit = await PaidCommitAsync(c, job, "SELECT 4 AS a");
        var funded = await settlement.FundAsync(new EscrowFunding(job, commit.ResultHash, [new EscrowPayee("host", commit.HostPublicKey, commit.ClaimedPriceNanoton)]));
        Assert.Equal(1_150_000_000, funded.AmountNanoton);
        Assert.InRange(await chain.BalanceAsync(funded.Escrow), 1_150_000_000, 1_150_000_000 + (long)EscrowSettlement.DeployBuffer.Nanoton);
        Assert.Null(await FetchAsync(c, job, EscrowGate.ToWire(funded)));

        // Nothing was paid to the host by any of this (the escrows are open, not settled), and the requester's wallet paid for them.
        Assert.Equal(hostBefore, await chain.BalanceAsync(hostWallet));
        Assert.True(await chain.BalanceAsync(requesterWallet) < 20_000_000_000 - 1_150_000_000 - 575_000_000);
        host.StandardInput.Close();
    }

    /// <summary>Three hosts charging <paramref name="tonPerJob"/> TON on the on-chain rail, started by `grid up`; returns their wallets and the seed.</summary>
    private async Task<(List<string> Wallets, string Seed)> GridAsync(LocalChainProcess chain, string globalParams, string treasury, int tonPerJob)
    {
        var wallets = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            wallets.Add(await HostAsync(chain, Path.Combine(GridRoot, $"host-{i}"), globalParams, treasury, tonPerJob));
        }
        var grid = Start("grid", "up", "--hosts", "3", "--config-root", GridRoot);
        return (wallets, WaitFor(grid, Seed()));
    }

    private const string PaidQuery = "SELECT \"group\", key, value FROM p2p_query_meta('SELECT 42 AS v, sum(range) AS s FROM range({0})', payment => 'paid', prefer => 'remote', replicas => 3, quorum => 2)";

    /// <summary>
    /// Runs the paid query with a SIMULATED crash. On this loaded machine a fresh process's join can miss the hosts' adverts
    /// ("no hosts available": nothing dispatched, nothing opened); that run is repeated (discovery is not what is tested here).
    /// </summary>
    private CliRunner.Result CrashRun(Dictionary<string, string> crash, string seed, int rows)
    {
        var join = $"SELECT count(*) AS peers FROM p2p_join(bootstrap => ['{seed}'])";
        CliRunner.Result r = null!;
        for (var i = 0; i < 4; i++)
        {
            r = Run(Requester, crash, join, string.Format(System.Globalization.CultureInfo.InvariantCulture, PaidQuery, rows));
            if (!r.Stdout.Contains("no hosts available", StringComparison.Ordinal))
            {
                break;
            }
            // Nothing was opened by a run that found no host.
            Assert.False(Directory.Exists(Path.Combine(Requester, "escrows")) && Directory.GetFiles(Path.Combine(Requester, "escrows"), "*.json").Length > 0);
            Thread.Sleep(2000);
        }
        return r;
    }

    private static PendingEscrow StoredEscrow(string requester) =>
        System.Text.Json.JsonSerializer.Deserialize<PendingEscrow>(File.ReadAllText(Directory.GetFiles(Path.Combine(requester, "escrows"), "*.json").Single()))!;

    [Fact]
    public async Task A_requester_killed_between_open_and_settle_settles_or_refunds_on_its_next_start_and_pays_nobody_twice()
    {
        await using var chain = await LocalChainProcess.StartAsync();
        var treasury = WalletOf(Path.Combine(_dir, "treasury"), On(chain));
        var (requester, globalParams) = await RequesterAsync(chain, treasury);
        // The treasury's wallet is deployed (by a 1 TON stake) so its fee leg is received, not bounced into the escrow's pull ledger.
        await chain.FundAsync(treasury, 3_000_000_000);
        Assert.Equal(1_000_000_000L, (long)Sql(Path.Combine(_dir, "treasury"), $"SELECT * FROM p2p_set('economics.local.contracts.global_params', '{globalParams}')",
            "SELECT staked_nanoton FROM p2p_stake(1)").Single(r => r.ContainsKey("staked_nanoton"))["staked_nanoton"]!);
        var (hosts, seed) = await GridAsync(chain, globalParams, treasury, 1);
        var payees = hosts.Append(treasury).ToList();
        var before = new Dictionary<string, long>();
        foreach (var w in payees)
        {
            before[w] = await chain.BalanceAsync(w);
        }

        // SIMULATED crash after the rows verified, before the settle is sent: the process dies; the record says the escrow is owed.
        var crash = new Dictionary<string, string> { [SimulatedCrash.Variable] = SimulatedCrash.BeforeSettle };
        var r = CrashRun(crash, seed, 600);
        Assert.True(r.ExitCode == SimulatedCrash.ExitCode, r.Stdout + r.Stderr);
        Assert.Contains("SIMULATED crash at escrow_before_settle", r.Stderr, StringComparison.Ordinal);
        var owed = StoredEscrow(Requester);
        Assert.Equal(("open", true), (owed.State, owed.Verified));
        foreach (var w in payees)
        {
            Assert.Equal(before[w], await chain.BalanceAsync(w)); // nothing paid yet
        }

        // The next start of the node resumes it in the background and settles it before the process exits.
        Sql(Requester, "SELECT count(*) AS restarted FROM p2p_status()"); // the node starts (and resumes its escrows)
        var settled = StoredEscrow(Requester);
        Assert.Equal("settled", settled.State);
        Assert.Equal(1_000_000_000, settled.Legs.Single(l => l.Role == "winner").Nanoton);
        foreach (var leg in settled.Legs)
        {
            var (value, fee) = await chain.LastIncomingAsync(leg.To, ChainAddresses.Friendly(settled.Escrow));
            Assert.Equal(leg.Nanoton, value);
            Assert.Equal(before[leg.To] + leg.Nanoton - fee, await chain.BalanceAsync(leg.To));
        }
        Assert.Equal(50_000_000, await chain.BalanceAsync(settled.Escrow));

        // Another start: nothing pending, nothing paid twice.
        var after = new Dictionary<string, long>();
        foreach (var w in payees)
        {
            after[w] = await chain.BalanceAsync(w);
        }
        Sql(Requester, "SELECT count(*) AS restarted_again FROM p2p_status()"); // the node starts (and resumes its escrows)
        foreach (var w in payees)
        {
            Assert.Equal(after[w], await chain.BalanceAsync(w));
        }

        // SIMULATED crash after the escrow is funded, before any row is fetched: not owed, so refunded once its deadline has passed.
        File.Delete(Directory.GetFiles(Path.Combine(Requester, "escrows"), "*.json").Single());
        var requesterBefore = await chain.BalanceAsync(requester);
        crash[SimulatedCrash.Variable] = SimulatedCrash.AfterOpen;
        r = CrashRun(crash, seed, 800);
        Assert.True(r.ExitCode == SimulatedCrash.ExitCode, r.Stdout + r.Stderr);
        var open = StoredEscrow(Requester);
        Assert.Equal(("open", false), (open.State, open.Verified));
        Assert.InRange(await chain.BalanceAsync(open.Escrow), open.AmountNanoton, open.AmountNanoton + 50_000_000);
        Sql(Requester, "SELECT count(*) AS before_deadline FROM p2p_status()"); // the node starts (and resumes its escrows)
        Assert.Equal("open", StoredEscrow(Requester).State); // before its deadline the contract would refuse a refund: it waits
        await chain.AdvanceAsync(open.Deadline - await chain.NowAsync() + 1);
        Sql(Requester, "SELECT count(*) AS after_deadline FROM p2p_status()"); // the node starts (and resumes its escrows)
        var refunded = StoredEscrow(Requester);
        Assert.Equal("refunded", refunded.State);
        Assert.Equal(50_000_000, await chain.BalanceAsync(refunded.Escrow)); // only the reserve stays
        // The requester got B back: it is out only the reserve and the fees of two wallet messages.
        var spent = requesterBefore - await chain.BalanceAsync(requester);
        Assert.InRange(spent, 50_000_000, 50_000_000 + 60_000_000);
        foreach (var w in payees)
        {
            Assert.Equal(after[w], await chain.BalanceAsync(w));
        }
    }

    [Fact]
    public async Task Bad_input_gets_a_clear_error_opens_nothing_and_moves_no_money_and_the_free_grid_still_works()
    {
        await using var chain = await LocalChainProcess.StartAsync();
        var treasury = WalletOf(Path.Combine(_dir, "treasury"), On(chain));
        // GlobalParams from a separate admin, so the requester can be left without a wallet at first.
        var admin = Path.Combine(_dir, "admin");
        var adminWallet = WalletOf(admin, On(chain), $"SELECT * FROM p2p_set('economics.fee_recipient', '{treasury}')");
        await chain.FundAsync(adminWallet, 5_000_000_000);
        var globalParams = (string)Sql(admin, "SELECT contract, address FROM p2p_contracts(deploy => true)").Single(r => (string)r["contract"]! == "GlobalParams")["address"]!;
        var (hosts, seed) = await GridAsync(chain, globalParams, treasury, 2);
        var join = $"SELECT count(*) AS peers FROM p2p_join(bootstrap => ['{seed}'])";
        var paid = string.Format(System.Globalization.CultureInfo.InvariantCulture, PaidQuery, 900);
        var hostsBefore = new List<long>();
        foreach (var w in hosts)
        {
            hostsBefore.Add(await chain.BalanceAsync(w));
        }
        // p2p_query_meta reports a failed query in its error row.
        string Fails(params string[] commands)
        {
            var r = Run(Requester, null, commands);
            Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
            var error = Rows(r).SingleOrDefault(x => x.ContainsKey("key") && (string)x["key"]! == "error");
            Assert.True(error is not null, r.Stdout);
            return (string)error["value"]!;
        }
        var escrows = Path.Combine(Requester, "escrows");

        // No wallet.
        Sql(Requester, On(chain), $"SELECT * FROM p2p_set('economics.fee_recipient', '{treasury}')", "SELECT rail FROM p2p_economics(rail => 'ton')", $"SELECT * FROM p2p_set('economics.local.contracts.global_params', '{globalParams}')", join);
        Assert.Contains("no wallet for local-emulator", Fails(join, paid), StringComparison.Ordinal);
        Assert.False(Directory.Exists(escrows));

        // An empty wallet.
        var wallet = WalletOf(Requester);
        Assert.Contains($"is empty: send it TON first", Fails(join, paid), StringComparison.Ordinal);
        Assert.False(Directory.Exists(escrows));
        Assert.Equal(0, await chain.BalanceAsync(wallet));

        // A bid below every host's price (they ask 2 TON a job; the requester pays at most 1).
        await chain.FundAsync(wallet, 10_000_000_000);
        var funded = await chain.BalanceAsync(wallet);
        var error = Fails("SELECT * FROM p2p_set('economics.pricing.max_bid', '1')", join, paid);
        Assert.Contains("no host runs this paid job for the max bid of 1 TON", error, StringComparison.Ordinal);
        // How many hosts were asked depends on how many the requester knew of by then: joining takes the hosts the seed
        // knows, and a host the seed has not yet heard of by gossip is learned a moment later (seen under load in full
        // runs: 2 of the 3). The cheapest ask is what the user needs; the count is in the error either way.
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(error, @"the cheapest of the [23] host\(s\) asked asks 2 TON"), error);
        Assert.False(Directory.Exists(escrows));
        Sql(Requester, "SELECT * FROM p2p_set('economics.pricing.max_bid', '0')");

        // The TON API down (nothing listens), then silent (accepts, never answers): an error within the configured timeout; the free grid still works.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<TcpClient>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    held.Add(await silent.AcceptTcpClientAsync());
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
            }
        });
        foreach (var (rpc, what) in new[] { ("http://127.0.0.1:9/api/v2", "failed"), ($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/api/v2", "no reply within 1 s") })
        {
            var timer = Stopwatch.StartNew();
            error = Fails($"SELECT enabled FROM p2p_economics(rpc => '{rpc}')", "SELECT * FROM p2p_set('economics.rpc_timeout_ms', '1000')", join, paid);
            Assert.Contains(what, error, StringComparison.Ordinal);
            // Two tries of 1 s each, on a loaded machine, with process start and grid join around them.
            Assert.True(timer.Elapsed < TimeSpan.FromSeconds(60), $"{timer.Elapsed}: {error}");
            Assert.False(Directory.Exists(escrows));
            var free = Sql(Requester, join, "SELECT key, value FROM p2p_query_meta('SELECT 7 AS seven', payment => 'free', prefer => 'remote', replicas => 3, quorum => 2) WHERE key = 'verified'");
            Assert.Equal("true", (string)free.Single(x => x.ContainsKey("key"))["value"]!);
        }
        silent.Stop();
        foreach (var h in held)
        {
            h.Dispose();
        }

        // No money moved by any of it.
        Assert.Equal(funded, await chain.BalanceAsync(wallet));
        for (var i = 0; i < hosts.Count; i++)
        {
            Assert.Equal(hostsBefore[i], await chain.BalanceAsync(hosts[i]));
        }
    }
}
