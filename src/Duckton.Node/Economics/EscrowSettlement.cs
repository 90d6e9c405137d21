using System.Text.Json;
using System.Text.Json.Serialization;
using Duckton.Core.Configuration;
using Duckton.Ton;
using Duckton.Ton.Addresses;
using Duckton.Ton.Contracts;
using Duckton.Ton.Rpc;
using Duckton.Ton.Wallets;
using Microsoft.Extensions.Logging;

namespace Duckton.Node.Economics;

/// <summary>One leg a settlement pays: to whom (raw address), what, and why (<c>winner</c>, <c>platform_fee</c>, <c>commission</c>).</summary>
public sealed record EscrowLeg(string Role, string To, long Nanoton);

/// <summary>
/// A paid job's escrow as this node (the requester) keeps it on disk from before it is funded until it is settled or
/// refunded, so a restart in between resumes it instead of losing it. Everything that determines the escrow's address is
/// here, so the address can be rebuilt and checked.
/// </summary>
public sealed record PendingEscrow
{
    public required string JobId { get; init; }
    public required string Network { get; init; }
    public required string Escrow { get; init; }
    public required string Requester { get; init; }
    public required string Arbiter { get; init; }
    public required string Treasury { get; init; }
    public required long AmountNanoton { get; init; }
    public required uint Deadline { get; init; }
    public required string ExpectedHash { get; init; }
    public required uint ParamsVersion { get; init; }
    public required ushort PlatformFeeBps { get; init; }
    public required ushort CommissionBps { get; init; }
    public required long BaseNanoton { get; init; }
    public required string Winner { get; init; }
    public required IReadOnlyList<string> Verifiers { get; init; }
    /// <summary><c>opening</c> (stored, deploy being sent), <c>open</c> (funded), <c>settled</c>, <c>refunded</c>, <c>abandoned</c> (never funded).</summary>
    public required string State { get; init; }
    public required long CreatedAt { get; init; }
    public string? OpenTx { get; init; }
    public string? CloseTx { get; init; }

    /// <summary>The rows re-hashed to the agreed hash: the escrow is owed to its payees and a restart settles it (not refunds it).</summary>
    public bool Verified { get; init; }
    public IReadOnlyList<EscrowLeg> Legs { get; init; } = [];

    /// <summary>The contract configuration these fields describe (its state init gives <see cref="Escrow"/>).</summary>
    public JobEscrowConfig Config() => new(TonAddress.Parse(Requester), TonAddress.Parse(Arbiter), Coins.FromNanoton(AmountNanoton), Deadline,
        new EscrowTerms(TonAddress.Parse(Treasury), Convert.FromHexString(ExpectedHash), JobEscrow.CandidatesHash(Candidates()), ParamsVersion, PlatformFeeBps, CommissionBps));

    /// <summary>The payees the requester commits to: the winner and every agreeing verifier.</summary>
    public IReadOnlyList<TonAddress> Candidates() => [TonAddress.Parse(Winner), .. Verifiers.Select(TonAddress.Parse)];
}

/// <summary>
/// The requester's side of a paid job on chain: opens a JobEscrow sized for the winner's base, the platform fee and one
/// commission per agreeing verifier (the contract's formula), settles exactly those legs, refunds after the deadline, and
/// keeps every escrow on disk (<c>&lt;config dir&gt;/escrows/</c>) until it is closed. The node's wallet is both requester
/// and arbiter. A paid query funds its escrow after the quorum and before any row is fetched (<see cref="FundAsync"/>),
/// and settles it once the rows verified (<see cref="PayAsync"/>).
/// </summary>
internal sealed class EscrowSettlement
{
    /// <summary>Extra value sent with the funded deploy: the escrow keeps 0.05 TON after closing (its storage reserve).</summary>
    public static readonly Coins DeployBuffer = Coins.FromTon(0.05m);

    /// <summary>Value sent with a settle or refund (the contract's compute; the unused part returns with the remainder).</summary>
    public static readonly Coins CloseValue = Coins.FromTon(0.05m);

    /// <summary>What a wallet must hold beyond B and the reserve to open an escrow: its own fees and the settle's value.</summary>
    public static readonly Coins GasMargin = Coins.FromTon(0.1m);

    /// <summary>Shortest escrow window: a refund is possible only from the deadline on.</summary>
    public static readonly TimeSpan MinimumWindow = TimeSpan.FromSeconds(600);


    private readonly EconomicsRuntime _runtime;
    private readonly ILogger _logger;

    public EscrowSettlement(EconomicsRuntime runtime, ILogger? logger = null)
    {
        _runtime = runtime ?? throw new ArgumentNullException(nameof(runtime));
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    }

    /// <summary>Where the pending escrows are kept.</summary>
    public string Directory => Path.Combine(_runtime.ConfigDirectory, "escrows");

    /// <summary>What B must be for <paramref name="baseAmount"/> and <paramref name="verifiers"/> agreeing verifiers: base + fee + N·commission.</summary>
    public static Coins Size(Coins baseAmount, int verifiers, ushort feeBps, ushort commissionBps) =>
        JobEscrow.RequiredTotal(baseAmount, verifiers, feeBps, commissionBps);

    /// <summary>
    /// Opens (deploys and funds) the escrow of <paramref name="jobId"/>: terms from GlobalParams as they are now, B sized
    /// for <paramref name="baseAmount"/> and the verifiers, deadline max(challenge window, 600 s) from the chain's clock.
    /// Stored before anything is sent.
    /// </summary>
    public async Task<PendingEscrow> OpenAsync(string jobId, byte[] expectedHash, TonAddress winner, IReadOnlyList<TonAddress> verifiers, Coins baseAmount,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentNullException.ThrowIfNull(expectedHash);
        ArgumentNullException.ThrowIfNull(winner);
        ArgumentNullException.ThrowIfNull(verifiers);
        if (expectedHash.Length != 32)
        {
            throw new EconomicsException("the agreed result hash must be 32 bytes");
        }
        if (baseAmount == Coins.Zero)
        {
            throw new EconomicsException("a paid job's base must be above 0");
        }
        var wallet = _runtime.Wallet();
        if (winner == wallet.Address || verifiers.Contains(wallet.Address))
        {
            // The contract refuses a winner that is the arbiter (280); a payee that is the requester would pay itself.
            throw new EconomicsException("the requester's own wallet cannot be paid by its escrow");
        }
        if (verifiers.Distinct().Count() != verifiers.Count || verifiers.Contains(winner))
        {
            throw new EconomicsException("each payee is paid once: the winner and the verifiers must be distinct wallets");
        }
        var (_, gp) = await _runtime.GlobalParamsAsync(ct).ConfigureAwait(false);
        var p = gp.Params;
        var amount = Size(baseAmount, verifiers.Count, p.PlatformFeeBps, p.ParticipationCommissionBps);
        var now = await _runtime.ChainNowAsync(ct).ConfigureAwait(false);
        var window = Math.Max((long)p.ChallengeWindowSecs, (long)MinimumWindow.TotalSeconds);
        var pending = new PendingEscrow
        {
            JobId = jobId, Network = _runtime.Settings.Network.ToConfigString(), Escrow = "", Requester = wallet.Address.ToRaw(), Arbiter = wallet.Address.ToRaw(),
            Treasury = gp.FeeRecipient.ToRaw(), AmountNanoton = EconomicsRuntime.Nano(amount), Deadline = (uint)(now + window),
            ExpectedHash = Convert.ToHexStringLower(expectedHash), ParamsVersion = gp.Version, PlatformFeeBps = p.PlatformFeeBps,
            CommissionBps = p.ParticipationCommissionBps, BaseNanoton = EconomicsRuntime.Nano(baseAmount), Winner = winner.ToRaw(),
            Verifiers = [.. verifiers.Select(v => v.ToRaw())], State = "opening", CreatedAt = now,
        };
        var config = pending.Config();
        var address = JobEscrow.Address(config);
        pending = pending with { Escrow = address.ToRaw() };
        // Checked before anything is stored or sent: a wallet that cannot cover B opens nothing.
        var balance = await _runtime.BalanceAsync(wallet.Address, ct).ConfigureAwait(false);
        var needed = amount + DeployBuffer + GasMargin;
        if (balance < needed)
        {
            throw new EconomicsException(balance == Coins.Zero
                ? $"the wallet {_runtime.Show(wallet.Address)} is empty: send it TON first (this paid job locks {amount.ToTonString()} TON); no escrow was opened"
                : $"the wallet {_runtime.Show(wallet.Address)} holds {balance.ToTonString()} TON, less than the {needed.ToTonString()} TON this paid job needs "
                  + $"({amount.ToTonString()} TON locked, {DeployBuffer.ToTonString()} TON escrow reserve, {GasMargin.ToTonString()} TON for fees): send it TON first; no escrow was opened");
        }
        Store(pending);
        var sent = await _runtime.SendAsync([new OutMessage(address, amount + DeployBuffer, Bounce: false, Body: JobEscrow.TopUp(), Init: JobEscrow.StateInit(config))], ct)
            .ConfigureAwait(false);
        var state = await StateAsync(address, ct).ConfigureAwait(false)
            ?? throw new EconomicsException($"the escrow {_runtime.Show(address, true)} was not deployed by transaction {sent.Wallet.Hash}; kept as pending, resumed on the next start");
        if (state.EscrowAmount != amount)
        {
            throw new EconomicsException($"the escrow {_runtime.Show(address, true)} holds terms for {state.EscrowAmount.ToTonString()} TON, not {amount.ToTonString()} TON");
        }
        pending = pending with { State = "open", OpenTx = sent.Wallet.Hash };
        Store(pending);
        _logger.LogInformation("escrow {Escrow} opened for job {Job}: {Amount} TON locked", address.ToRaw(), jobId, amount.ToTonString());
        return pending;
    }

    /// <summary>
    /// Before a paid job is offered: the wallet exists and holds something, so hosts do not compute a job that cannot be
    /// paid. The exact amount is checked when the escrow is opened (the bills are known only at the quorum).
    /// </summary>
    public async Task PreflightAsync(CancellationToken ct = default)
    {
        var wallet = _runtime.Wallet();
        if (await _runtime.BalanceAsync(wallet.Address, ct).ConfigureAwait(false) == Coins.Zero)
        {
            throw new EconomicsException($"the wallet {_runtime.Show(wallet.Address)} is empty: send it TON first (a paid query locks its hosts' bills in an escrow before it fetches rows); no escrow was opened");
        }
    }

    /// <summary>
    /// Opens and funds the escrow of a paid job whose commits reached the quorum, before any row is fetched: candidates are
    /// every agreeing host's wallet (the wallet v5r1 of its node key), the first one the planned winner, and B covers the
    /// largest of their signed bills, so whichever of them serves the rows can be paid from it.
    /// </summary>
    public async Task<PendingEscrow> FundAsync(EscrowFunding funding, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(funding);
        if (funding.Payees.Count == 0)
        {
            throw new EconomicsException("a paid job's escrow needs at least one payee");
        }
        var gid = _runtime.NetworkGlobalId;
        var wallets = funding.Payees.Select(p => new WalletV5R1(p.PublicKey, 0, gid).Address).ToList();
        var hash = Duckton.Core.Hashing.Blake3.Hash(System.Text.Encoding.UTF8.GetBytes(funding.AgreedHash));
        var baseAmount = Coins.FromNanoton(funding.Payees.Max(p => p.ClaimNanoton));
        var open = await OpenAsync(funding.JobId, hash, wallets[0], wallets.Skip(1).ToList(), baseAmount, ct).ConfigureAwait(false);
        if (SimulatedCrash.Requested(SimulatedCrash.AfterOpen))
        {
            SimulatedCrash.Exit(SimulatedCrash.AfterOpen, _logger);
        }
        return open;
    }

    /// <summary>
    /// Pays a verified paid job from the escrow funded before its rows were fetched: the host that served the rows is the
    /// winner (base = its signed bill), the other agreeing hosts the verifiers; the settle result hash is BLAKE3(agreed hash).
    /// The record is marked verified first, so a crash before the settle lands is settled by the next start. A failure is
    /// reported with the escrow (it stays on disk; a resume settles it and nothing is paid twice).
    /// </summary>
    public async Task<PaymentReport> PayAsync(PaidJob job, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.BaseNanoton == 0)
        {
            return new PaymentReport { Error = "not settled: the winner's signed commit claims nothing for this job" };
        }
        if (job.Funded is not { } open)
        {
            return new PaymentReport { Error = "not settled: no escrow was funded for this job before its rows were fetched" };
        }
        var gid = _runtime.NetworkGlobalId;
        var winner = new WalletV5R1(job.WinnerPublicKey, 0, gid).Address;
        var verifiers = job.Verifiers.Select(v => new WalletV5R1(v.PublicKey, 0, gid).Address).ToList();
        var candidates = open.Candidates();
        if (!candidates.Contains(winner) || verifiers.Any(v => !candidates.Contains(v)) || (long)job.BaseNanoton > open.BaseNanoton)
        {
            return new PaymentReport { Escrow = open.Escrow, LockedNanoton = open.AmountNanoton, State = open.State, OpenTx = open.OpenTx,
                Error = "not settled: the host that served the rows is not covered by the funded escrow" };
        }
        // The same candidate set (the address does not change), now with the actual winner and its bill.
        var owed = open with { Winner = winner.ToRaw(), Verifiers = [.. verifiers.Select(v => v.ToRaw())], BaseNanoton = (long)job.BaseNanoton, Verified = true };
        Store(owed);
        var report = new PaymentReport { Escrow = owed.Escrow, LockedNanoton = owed.AmountNanoton, State = owed.State, OpenTx = owed.OpenTx };
        if (SimulatedCrash.Requested(SimulatedCrash.BeforeSettle))
        {
            SimulatedCrash.Exit(SimulatedCrash.BeforeSettle, _logger);
        }
        try
        {
            var settled = await SettleAsync(owed, Convert.FromHexString(owed.ExpectedHash), ct).ConfigureAwait(false);
            return report with
            {
                State = settled.State, Legs = settled.Legs, SettleTx = settled.CloseTx,
                RefundNanoton = settled.AmountNanoton - settled.Legs.Sum(l => l.Nanoton),
            };
        }
        catch (EconomicsException e)
        {
            return report with { Error = $"the escrow is open but not settled: {e.Message}; the next start of this node settles it (it is owed: the rows verified)" };
        }
    }

    /// <summary>
    /// What a host checks before it releases rows: the escrow at the address its terms give is deployed, not settled,
    /// holds at least B and names <paramref name="payee"/> among its candidates. Returns why not, or null when it is funded.
    /// </summary>
    public static async Task<string?> FundedProblemAsync(ToncenterClient client, JobEscrowConfig config, IReadOnlyList<TonAddress> candidates, TonAddress payee,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(candidates);
        if (!candidates.Contains(payee) || !JobEscrow.CandidatesHash(candidates).AsSpan().SequenceEqual(config.Terms.CandidatesHash))
        {
            return "this host's wallet is not among the escrow's committed payees";
        }
        var address = JobEscrow.Address(config);
        var info = await client.GetAddressInformationAsync(address, ct).ConfigureAwait(false);
        if (!info.IsActive)
        {
            return $"no escrow is deployed at {address.ToRaw()}";
        }
        var state = JobEscrow.ParseState(await client.RunGetMethodAsync(address, "get_escrow_state", cancellationToken: ct).ConfigureAwait(false));
        if (state.Settled)
        {
            return "the escrow is already closed";
        }
        return info.Balance < config.EscrowAmount ? $"the escrow holds {info.Balance.ToTonString()} TON, less than its {config.EscrowAmount.ToTonString()} TON" : null;
    }

    /// <summary>Settles an open escrow: the winner gets base, the treasury floor(base·φ), each verifier floor(base·κ); the rest returns to the requester.</summary>
    public async Task<PendingEscrow> SettleAsync(PendingEscrow pending, byte[] resultHash, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(resultHash);
        if (pending.State != "open")
        {
            throw new EconomicsException($"the escrow of job {pending.JobId} is {pending.State}, not open");
        }
        var baseAmount = Coins.FromNanoton(pending.BaseNanoton);
        var fee = JobEscrow.PlatformFee(baseAmount, pending.PlatformFeeBps);
        var commission = JobEscrow.Commission(baseAmount, pending.CommissionBps);
        var winner = TonAddress.Parse(pending.Winner);
        var participants = pending.Verifiers.ToDictionary(v => TonAddress.Parse(v), _ => commission);
        var body = JobEscrow.Settle(resultHash, winner, baseAmount, baseAmount, fee, participants, pending.Candidates());
        var escrow = TonAddress.Parse(pending.Escrow);
        var tx = await CloseAsync(escrow, body, "settle", ct).ConfigureAwait(false);
        List<EscrowLeg> legs = [new("winner", pending.Winner, pending.BaseNanoton), new("platform_fee", pending.Treasury, EconomicsRuntime.Nano(fee)),
            .. pending.Verifiers.Select(v => new EscrowLeg("commission", v, EconomicsRuntime.Nano(commission)))];
        var settled = pending with { State = "settled", CloseTx = tx.Hash, Legs = legs };
        Store(settled);
        return settled;
    }

    /// <summary>Refunds an open escrow once its deadline has passed (before then the contract refuses, 225: said here first).</summary>
    public async Task<PendingEscrow> RefundAsync(PendingEscrow pending, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(pending);
        if (pending.State != "open")
        {
            throw new EconomicsException($"the escrow of job {pending.JobId} is {pending.State}, not open");
        }
        var now = await _runtime.ChainNowAsync(ct).ConfigureAwait(false);
        if (now < pending.Deadline)
        {
            throw new EconomicsException($"the escrow of job {pending.JobId} can be refunded from {DateTimeOffset.FromUnixTimeSeconds(pending.Deadline):yyyy-MM-dd HH:mm:ss} UTC (in {pending.Deadline - now} s)");
        }
        var tx = await CloseAsync(TonAddress.Parse(pending.Escrow), JobEscrow.Refund(), "refund", ct).ConfigureAwait(false);
        var refunded = pending with { State = "refunded", CloseTx = tx.Hash };
        Store(refunded);
        return refunded;
    }

    /// <summary>Every stored escrow, newest first.</summary>
    public IReadOnlyList<PendingEscrow> Stored()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }
        return [.. System.IO.Directory.EnumerateFiles(Directory, "*.json").Select(f => JsonSerializer.Deserialize(File.ReadAllText(f), EscrowJson.Default.PendingEscrow)!)
            .OrderByDescending(e => e.CreatedAt)];
    }

    /// <summary>
    /// After a restart: brings every stored escrow that is not closed up to date with the chain. One the chain shows closed is
    /// marked so; one never deployed is abandoned once its deploy can no longer land (nothing was locked); an open one whose
    /// rows verified is settled; any other open one past its deadline is refunded. Open ones before their deadline are
    /// returned still open (the next start looks again).
    /// </summary>
    public async Task<IReadOnlyList<PendingEscrow>> ResumeAsync(CancellationToken ct = default)
    {
        var result = new List<PendingEscrow>();
        foreach (var e in Stored().Where(e => e.State is "opening" or "open" && e.Network == _runtime.Settings.Network.ToConfigString()))
        {
            try
            {
                result.Add(await ResumeOneAsync(e, ct).ConfigureAwait(false));
            }
            catch (Exception x) when (x is EconomicsException or ToncenterException or TonFormatException)
            {
                // One escrow that cannot be brought up to date does not hold up the others; it stays pending for the next start.
                _logger.LogWarning("escrow {Escrow} of job {Job} not resumed: {Error}", e.Escrow, e.JobId, x.Message);
                result.Add(e);
            }
        }
        return result;
    }

    private async Task<PendingEscrow> ResumeOneAsync(PendingEscrow e, CancellationToken ct)
    {
        {
            var address = TonAddress.Parse(e.Escrow);
            var state = await StateAsync(address, ct).ConfigureAwait(false);
            var now = await _runtime.ChainNowAsync(ct).ConfigureAwait(false);
            PendingEscrow next;
            if (state is null)
            {
                // The wallet request is valid for 2 minutes: past that (with a margin) it can no longer deploy anything.
                next = now > e.CreatedAt + 300 ? e with { State = "abandoned" } : e;
                Store(next);
            }
            else if (state.Settled)
            {
                next = e with { State = e.Legs.Count > 0 ? "settled" : "closed" };
                Store(next);
            }
            else
            {
                next = e with { State = "open" };
                Store(next);
                if (e.Verified)
                {
                    // The rows were delivered and verified before the stop: the payees are owed, whatever the deadline.
                    next = await SettleAsync(next, Convert.FromHexString(e.ExpectedHash), ct).ConfigureAwait(false);
                }
                else if (now >= e.Deadline)
                {
                    next = await RefundAsync(next, ct).ConfigureAwait(false);
                }
            }
            _logger.LogInformation("escrow {Escrow} of job {Job} resumed: {State}", e.Escrow, e.JobId, next.State);
            return next;
        }
    }

    private async Task<EscrowState?> StateAsync(TonAddress escrow, CancellationToken ct)
    {
        var info = await _runtime.AccountAsync(escrow, ct).ConfigureAwait(false);
        if (!info.IsActive)
        {
            return null;
        }
        try
        {
            return JobEscrow.ParseState(await _runtime.Client.RunGetMethodAsync(escrow, "get_escrow_state", cancellationToken: ct).ConfigureAwait(false));
        }
        catch (Exception e) when (e is TonFormatException or ToncenterException)
        {
            throw new EconomicsException($"the escrow {_runtime.Show(escrow, true)} answered unexpectedly: {e.Message}", e);
        }
    }

    /// <summary>Sends a settle or refund and returns the escrow's own transaction; a refusal names its exit code.</summary>
    private async Task<TonTransaction> CloseAsync(TonAddress escrow, Duckton.Ton.Cells.Cell body, string what, CancellationToken ct)
    {
        var wallet = _runtime.Wallet();
        var sent = await _runtime.SendAsync([new OutMessage(escrow, CloseValue, Body: body)], ct).ConfigureAwait(false);
        var expected = sent.Wallet.OutMessages.FirstOrDefault(m => m.Destination == escrow)?.Hash;
        var txs = await _runtime.Client.GetTransactionsAsync(escrow, 20, ct).ConfigureAwait(false);
        var tx = txs.FirstOrDefault(t => t.InMessage?.Source == wallet.Address && (expected is null || t.InMessage.Hash is null || t.InMessage.Hash == expected))
            ?? throw new EconomicsException($"{what}: the wallet's message (transaction {sent.Wallet.Hash}) has no transaction at the escrow yet");
        if (tx.Outcome is { Succeeded: false } o)
        {
            throw new EconomicsException($"the escrow refused the {what} with exit code {o.ComputeExitCode} ({ExitName(o.ComputeExitCode)}); transaction {tx.Hash}");
        }
        return tx;
    }

    private static string ExitName(int? code) => code switch
    {
        222 => "not the arbiter",
        223 => "result hash differs from the agreed one",
        224 => "already closed",
        225 => "deadline not reached",
        226 => "payout exceeds the escrow",
        280 => "the winner is the arbiter",
        281 => "a payee is not a committed candidate",
        285 => "platform fee mismatch",
        286 => "commission mismatch",
        _ => "see docs/TON.md, JobEscrow",
    };

    private void Store(PendingEscrow e)
    {
        // Owner-only, written to a temporary file and renamed: a crash leaves the old record or the new one, never half of one.
        OwnerOnlyFile.WriteAtomically(Path.Combine(Directory, SafeName(e.JobId) + ".json"),
            JsonSerializer.SerializeToUtf8Bytes(e, EscrowJson.Default.PendingEscrow), protectDirectory: true);
    }

    private static string SafeName(string jobId) => new([.. jobId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_')]);
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PendingEscrow))]
internal sealed partial class EscrowJson : JsonSerializerContext;
