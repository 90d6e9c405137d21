using System.Text.Json;
using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Node.Trust;
using Duckton.Ton;
using Duckton.Ton.Addresses;
using Duckton.Ton.Contracts;
using Duckton.Ton.Rpc;
using Microsoft.Extensions.Logging;

namespace Duckton.Node.Economics;

/// <summary>
/// One slash this node decided on, kept on disk (<c>&lt;config dir&gt;/slashes/&lt;evidence hash&gt;.json</c>) from before
/// it is sent, so a restart neither loses nor repeats it.
/// </summary>
public sealed record SlashRecord
{
    /// <summary>BLAKE3 of the evidence (see <see cref="EvidenceSlasher.EvidenceHash"/>), hex.</summary>
    public required string EvidenceHash { get; init; }
    /// <summary>The slash message's query id: the first 8 bytes of the evidence hash (the vault echoes it in every payout).</summary>
    public required ulong QueryId { get; init; }
    public required string NodeId { get; init; }
    public required string JobId { get; init; }
    public required string Kind { get; init; }
    /// <summary>
    /// <c>sending</c> (stored, the wallet request may be on its way), <c>slashed</c> (the vault executed it),
    /// <c>refused</c> (the vault refused it; final), <c>no_stake</c> (nothing to slash; final), <c>unverifiable</c> (the
    /// evidence did not pass its re-check; never sent), <c>retry</c> (a chain call failed; tried again next round).
    /// </summary>
    public required string State { get; init; }
    public required string Network { get; init; }
    public byte Reason { get; init; }
    public ushort Bps { get; init; }
    public long AmountNanoton { get; init; }
    public string? Vault { get; init; }
    public string? WalletTx { get; init; }
    /// <summary>The vault's transaction that executed the slash (what <c>p2p_receipts().slash_tx</c> shows).</summary>
    public string? VaultTx { get; init; }
    public string? Error { get; init; }
    public int Attempts { get; init; }
    public long CreatedAt { get; init; }
    public long? SentAt { get; init; }

    public bool Final => State is "slashed" or "refused" or "no_stake" or "unverifiable";
}

/// <summary>The outcome of re-checking one piece of evidence: null <see cref="Problem"/> = it proves a signed wrong answer.</summary>
public sealed record EvidenceCheck(string? Problem, CommitMessage? Commit);

/// <summary>
/// Slashing by evidence. On the node whose wallet is the GlobalParams admin (the vaults' slasher), with economics on, a
/// background round takes every piece of objective evidence in the trust store (a host's signed commit contradicting a
/// quorum certificate; a host's signed wrong canary answer), re-checks it (signatures; the certificate, or the canary
/// recomputed), and slashes the host's StakeVault once per piece: a wrong canary answer costs
/// <c>slash_wrong_result_pct</c>, a commit contradicting a certificate of a real job <c>slash_cheat_pct</c> (both as
/// GlobalParams holds them) of what the vault holds (staked + unbonding). The evidence hash's first 8 bytes are the
/// slash's query id. Nothing is built or sent while economics is off.
/// </summary>
public sealed class EvidenceSlasher : IAsyncDisposable
{
    /// <summary>Value attached to a slash (the vault's compute; the rest stays in the vault).</summary>
    public static readonly Coins SlashValue = Coins.FromTon(0.05m);

    /// <summary>How often the round runs without being woken by new evidence (failed chain calls are retried then).</summary>
    public static readonly TimeSpan RoundInterval = TimeSpan.FromSeconds(10);

    /// <summary>How long a sent slash with no vault transaction is waited for before it is sent again (its wallet request expired).</summary>
    public static readonly TimeSpan ResendAfter = TimeSpan.FromMinutes(3);

    private readonly Func<TrustStore> _store;
    private readonly TrustEngine _trust;
    private readonly Func<NodeConfig> _config;
    private readonly Func<EconomicsRuntime> _runtime;
    private readonly string _directory;
    private readonly string _engineVersion;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _contradictedJobs = new(StringComparer.Ordinal);
    private Task? _loop;
    private string? _notSlasherLogged;

    /// <param name="runtime">The economics runtime; asked only while economics is on.</param>
    public EvidenceSlasher(Func<TrustStore> store, TrustEngine trust, Func<NodeConfig> config, Func<EconomicsRuntime> runtime, string configDirectory,
        string engineVersion, TimeProvider time, ILogger logger)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _trust = trust ?? throw new ArgumentNullException(nameof(trust));
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _runtime = runtime ?? throw new ArgumentNullException(nameof(runtime));
        _directory = Path.Combine(configDirectory, "slashes");
        _engineVersion = engineVersion;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _trust.EvidenceRecorded += OnEvidence;
    }

    /// <summary>Where the slash records (and the certificates contradicting evidence is checked against) are kept.</summary>
    public string Directory => _directory;

    /// <summary>Rounds run (tests).</summary>
    public int Rounds { get; private set; }

    private void OnEvidence(EvidenceEntry e)
    {
        if (e.Kind == EvidenceKinds.ContradictsCertificate)
        {
            _contradictedJobs.TryAdd(e.JobId, 0);
        }
        _wake.Release2();
    }

    /// <summary>
    /// Keeps the certificate of a verified job that holds evidence of a contradicting commit (called with every verified
    /// job's certificate; only those are written): the re-check before a slash needs it.
    /// </summary>
    public void OfferCertificate(string jobId, string certificate)
    {
        if (!_contradictedJobs.ContainsKey(jobId) || !_config().Economics.Enabled)
        {
            return;
        }
        try
        {
            OwnerOnlyFile.WriteAtomically(CertificatePath(jobId), System.Text.Encoding.UTF8.GetBytes(certificate), protectDirectory: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("slashing: the certificate of job {JobId} was not kept (its evidence cannot be re-checked, so it will not be slashed): {Error}", jobId, e.Message);
        }
        _wake.Release2();
    }

    private string CertificateDirectory => Path.Combine(_directory, "certificates");

    private string CertificatePath(string jobId) => Path.Combine(CertificateDirectory, SafeName(jobId) + ".dcc");

    private static string SafeName(string s) => string.Concat(s.Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '_'));

    /// <summary>BLAKE3 over <c>"duckton-evidence-v1" ‖ kind ‖ 0 ‖ job id ‖ 0 ‖ proof</c>: names one piece of evidence.</summary>
    public static byte[] EvidenceHash(EvidenceEntry e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var head = System.Text.Encoding.UTF8.GetBytes("duckton-evidence-v1" + e.Kind + "\0" + e.JobId + "\0");
        return Duckton.Core.Hashing.Blake3.Hash([.. head, .. e.Proof]);
    }

    /// <summary>The slash message's query id for <paramref name="evidenceHash"/>: its first 8 bytes, big-endian.</summary>
    public static ulong QueryIdOf(ReadOnlySpan<byte> evidenceHash) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(evidenceHash);

    /// <summary>
    /// Re-checks <paramref name="e"/> as this node (<paramref name="requesterNodeId"/>) collected it: the proof is a commit
    /// signed by the accused host for this node's job; a wrong canary answer must differ from the answer this node computes
    /// again for the canary it sent (rebuilt from the job id); a contradicting commit must be over the same job, query
    /// and input as a certificate this node signed, whose commits verify, without the accused among its signers, and
    /// state another result.
    /// </summary>
    public static EvidenceCheck Recheck(EvidenceEntry e, string requesterNodeId, string engineVersion, Func<string, string> canarySqlFor,
        Func<string, string> knownAnswer, Func<string, string?> certificateOf)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(canarySqlFor);
        ArgumentNullException.ThrowIfNull(knownAnswer);
        ArgumentNullException.ThrowIfNull(certificateOf);
        CommitMessage commit;
        try
        {
            commit = CommitMessage.Decode(e.Proof);
        }
        catch (ProtocolException x)
        {
            return new EvidenceCheck("the proof is not a commit: " + x.Message, null);
        }
        if (!commit.VerifySignature())
        {
            return new EvidenceCheck("the commit's signature does not verify", commit);
        }
        if (commit.HostNodeId != e.NodeId)
        {
            return new EvidenceCheck($"the commit is signed by {commit.HostNodeId}, not by the accused {e.NodeId}", commit);
        }
        if (commit.JobId != e.JobId || commit.RequesterNodeId != requesterNodeId)
        {
            return new EvidenceCheck("the commit is for another job or another requester", commit);
        }
        if (e.Kind == EvidenceKinds.WrongCanary)
        {
            var sql = canarySqlFor(e.JobId);
            if (commit.QueryHash != JobIds.QueryHash(engineVersion, sql))
            {
                return new EvidenceCheck("the commit is not over the canary this node sent in that job", commit);
            }
            string expected;
            try
            {
                expected = knownAnswer(sql);
            }
            catch (Exception x) when (x is not OutOfMemoryException)
            {
                return new EvidenceCheck("the canary's answer could not be recomputed: " + x.Message, commit);
            }
            return string.Equals(expected, commit.ResultHash, StringComparison.OrdinalIgnoreCase)
                ? new EvidenceCheck("the signed canary answer is the right one", commit)
                : new EvidenceCheck(null, commit);
        }
        if (e.Kind == EvidenceKinds.ContradictsCertificate)
        {
            if (certificateOf(e.JobId) is not { } certificate)
            {
                return new EvidenceCheck("the job's certificate is not kept here", commit);
            }
            var check = CommitCertificate.Verify(certificate);
            if (!check.Valid)
            {
                return new EvidenceCheck("the certificate does not verify: " + check.Error, commit);
            }
            if (check.Requester != requesterNodeId || check.JobId != e.JobId)
            {
                return new EvidenceCheck("the certificate is for another job or was signed by another requester", commit);
            }
            if (check.Hosts.Contains(e.NodeId, StringComparer.Ordinal))
            {
                return new EvidenceCheck("the accused host is among the certificate's signers", commit);
            }
            var agreed = CommitCertificate.Decode(certificate).Commits[0];
            if (commit.QueryHash != agreed.QueryHash || !commit.InputFingerprint.AsSpan().SequenceEqual(agreed.InputFingerprint))
            {
                return new EvidenceCheck("the commit is over other input than the certificate", commit);
            }
            return commit.AgreesWith(agreed) ? new EvidenceCheck("the commit agrees with the certificate", commit) : new EvidenceCheck(null, commit);
        }
        return new EvidenceCheck($"unknown kind of evidence '{e.Kind}'", commit);
    }

    /// <summary>Every slash record on disk (newest first).</summary>
    public IReadOnlyList<SlashRecord> Records() => ReadAll(_directory);

    /// <summary>The slash records under <paramref name="slashesDirectory"/> (for readers that have no slasher, e.g. <c>p2p_receipts()</c>).</summary>
    public static IReadOnlyList<SlashRecord> ReadAll(string slashesDirectory)
    {
        if (!System.IO.Directory.Exists(slashesDirectory))
        {
            return [];
        }
        var list = new List<SlashRecord>();
        foreach (var f in System.IO.Directory.EnumerateFiles(slashesDirectory, "*.json"))
        {
            try
            {
                if (JsonSerializer.Deserialize(File.ReadAllText(f), SlashJson.Default.SlashRecord) is { } r)
                {
                    list.Add(r);
                }
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
            {
                // Half-written files cannot exist (writes are atomic); an unreadable one is skipped, not fatal.
            }
        }
        return [.. list.OrderByDescending(r => r.CreatedAt)];
    }

    private SlashRecord? Load(string hash)
    {
        var path = Path.Combine(_directory, hash + ".json");
        return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllText(path), SlashJson.Default.SlashRecord) : null;
    }

    // Owner-only and replaced atomically (the config directory's own writer): a crash leaves the old record or the new one.
    private void Save(SlashRecord r) =>
        OwnerOnlyFile.WriteAtomically(Path.Combine(_directory, r.EvidenceHash + ".json"), JsonSerializer.SerializeToUtf8Bytes(r, SlashJson.Default.SlashRecord), protectDirectory: true);

    /// <summary>Starts the background rounds (once).</summary>
    public void Start()
    {
        lock (_stop)
        {
            _loop ??= Task.Run(LoopAsync);
        }
    }

    private async Task LoopAsync()
    {
        var first = true;
        while (!_stop.IsCancellationRequested && !_stopping)
        {
            try
            {
                // At once on start (evidence persisted earlier, slashes left "sending"); then woken by new evidence, or one
                // round per interval (retries of failed chain calls).
                if (!first)
                {
                    await _wake.WaitAsync(RoundInterval, _stop.Token).ConfigureAwait(false);
                }
                first = false;
                if (_stopping)
                {
                    return;
                }
                await RunOnceAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogWarning("slashing: the round failed, retried next round: {Error}", e.Message);
            }
        }
    }

    /// <summary>
    /// One round: with economics on and this node's wallet the GlobalParams admin, re-checks and slashes every piece of
    /// evidence not slashed yet. Returns the records it changed.
    /// </summary>
    public async Task<IReadOnlyList<SlashRecord>> RunOnceAsync(CancellationToken ct = default)
    {
        var changed = new List<SlashRecord>();
        if (!_config().Economics.Enabled)
        {
            return changed; // economics off: no runtime, no chain client, nothing sent
        }
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Rounds++;
            var evidence = _store().Evidence();
            if (evidence.Count == 0)
            {
                return changed;
            }
            foreach (var e in evidence.Where(e => e.Kind == EvidenceKinds.ContradictsCertificate))
            {
                _contradictedJobs.TryAdd(e.JobId, 0);
            }
            var runtime = _runtime();
            if (runtime.TryWallet() is not { } wallet)
            {
                return changed;
            }
            var (_, gp) = await runtime.GlobalParamsAsync(ct).ConfigureAwait(false);
            if (gp.Admin != wallet.Address)
            {
                var key = gp.Admin.ToRaw();
                if (_notSlasherLogged != key)
                {
                    _notSlasherLogged = key;
                    _logger.LogInformation("slashing: this node's wallet is not the vaults' slasher (the GlobalParams admin {Admin}); it records evidence but slashes nothing",
                        runtime.Show(gp.Admin, true));
                }
                return changed;
            }
            var vaults = new DerivedVaultAddresses(EconomicsRuntime.VaultConfigOf(gp), runtime.NetworkGlobalId);
            foreach (var e in evidence)
            {
                ct.ThrowIfCancellationRequested();
                if (await SlashOneAsync(runtime, wallet.Address, gp, vaults, e, ct).ConfigureAwait(false) is { } r)
                {
                    changed.Add(r);
                }
            }
            return changed;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<SlashRecord?> SlashOneAsync(EconomicsRuntime runtime, TonAddress wallet, GlobalParamsState gp, DerivedVaultAddresses vaults, EvidenceEntry e,
        CancellationToken ct)
    {
        var hashBytes = EvidenceHash(e);
        var hash = Convert.ToHexStringLower(hashBytes);
        var record = Load(hash);
        if (record is { Final: true })
        {
            return null;
        }
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        record ??= new SlashRecord
        {
            EvidenceHash = hash, QueryId = QueryIdOf(hashBytes), NodeId = e.NodeId, JobId = e.JobId, Kind = e.Kind, State = "retry",
            Network = runtime.Settings.NetworkName, CreatedAt = now,
        };
        // Re-checked before every send: a forged or unverifiable item is never sent.
        var check = Recheck(e, _trust.NodeId, _engineVersion, _trust.CanarySqlFor, _trust.KnownAnswer,
            job => File.Exists(CertificatePath(job)) ? File.ReadAllText(CertificatePath(job)) : null);
        if (check.Problem is { } problem)
        {
            if (e.Kind == EvidenceKinds.ContradictsCertificate && problem == "the job's certificate is not kept here" && now - record.CreatedAt < 60)
            {
                // The certificate is written just after the evidence (when the query's answer is accepted): wait for it a little.
                Save(record);
                return null;
            }
            var refused = record with { State = "unverifiable", Error = problem };
            Save(refused);
            _logger.LogWarning("slashing: evidence against {Node} (job {Job}) failed its re-check and is not sent: {Problem}", e.NodeId, e.JobId, problem);
            return refused;
        }
        var vault = vaults.VaultOf(e.NodeId, check.Commit!.HostPublicKey);
        if (record.State == "sending")
        {
            // A previous round (or process) sent it: look for the vault's transaction before sending again.
            if (await FindSlashAsync(runtime, vault, wallet, record.QueryId, ct).ConfigureAwait(false) is { } done)
            {
                return Finish(record, done);
            }
            if (record.SentAt is { } sent && now - sent < (long)ResendAfter.TotalSeconds)
            {
                return null;
            }
        }
        try
        {
            var info = await runtime.AccountAsync(vault, ct).ConfigureAwait(false);
            var state = info.IsActive ? StakeVault.ParseState(await runtime.Client.RunGetMethodAsync(vault, "get_vault_state", null, ct).ConfigureAwait(false)) : null;
            var (reason, bps) = e.Kind == EvidenceKinds.WrongCanary ? ((byte)1, gp.Params.SlashWrongBps) : ((byte)2, gp.Params.SlashCheatBps);
            var held = state is null ? Coins.Zero : state.Staked + state.Unbonding;
            var amount = StakeVault.SlashShare(held, bps);
            if (amount == Coins.Zero)
            {
                var none = record with { State = "no_stake", Vault = vault.ToRaw(), Reason = reason, Bps = bps, Error = $"the vault holds {held.ToTonString()} TON: nothing to slash" };
                Save(none);
                _logger.LogInformation("slashing: {Node} has nothing staked in {Vault}; its evidence (job {Job}) is recorded, nothing slashed", e.NodeId, runtime.Show(vault, true), e.JobId);
                return none;
            }
            var sending = record with
            {
                State = "sending", Vault = vault.ToRaw(), Reason = reason, Bps = bps, AmountNanoton = EconomicsRuntime.Nano(amount), Attempts = record.Attempts + 1,
                SentAt = now, Error = null,
            };
            Save(sending); // before anything is sent: a restart finds it and looks for the transaction instead of sending twice
            _logger.LogInformation("slashing: {Node} ({Kind}, job {Job}): slashing {Amount} TON ({Bps} bps of {Held} TON) from {Vault}", e.NodeId, e.Kind, e.JobId,
                amount.ToTonString(), bps, held.ToTonString(), runtime.Show(vault, true));
            var body = StakeVault.Slash(amount, reason, wallet, sending.QueryId);
            var (walletTx, _) = await runtime.SendAsync([new OutMessage(vault, SlashValue, Bounce: true, Body: body)], ct).ConfigureAwait(false);
            sending = sending with { WalletTx = walletTx.Hash };
            Save(sending);
            for (var i = 0; i < 20; i++)
            {
                if (await FindSlashAsync(runtime, vault, wallet, sending.QueryId, ct).ConfigureAwait(false) is { } vaultTx)
                {
                    return Finish(sending, vaultTx);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(250), _time, ct).ConfigureAwait(false);
            }
            return sending; // looked for again next round
        }
        catch (Exception x) when (x is EconomicsException or ToncenterException or TonFormatException or HttpRequestException)
        {
            // RPC trouble: a record that was not sent is retried next round; a "sending" one is looked for first.
            var current = Load(hash) ?? record;
            var failed = current with { State = current.State == "sending" ? "sending" : "retry", Error = x.Message };
            Save(failed);
            _logger.LogWarning("slashing: {Node} (job {Job}) not slashed this round, retried next round: {Error}", e.NodeId, e.JobId, x.Message);
            return failed;
        }
    }

    private SlashRecord Finish(SlashRecord r, TonTransaction vaultTx)
    {
        SlashRecord done;
        if (vaultTx.Outcome is { Succeeded: false } o)
        {
            done = r with { State = "refused", VaultTx = vaultTx.Hash, Error = $"the vault refused the slash with exit code {o.ComputeExitCode}" };
            _logger.LogWarning("slashing: the vault of {Node} refused the slash (exit code {Code}), transaction {Tx}", r.NodeId, o.ComputeExitCode, vaultTx.Hash);
        }
        else
        {
            done = r with { State = "slashed", VaultTx = vaultTx.Hash, Error = null };
            _logger.LogInformation("slashing: {Node} slashed {Amount} nanoton for evidence {Hash} (job {Job}); vault transaction {Tx}", r.NodeId, r.AmountNanoton,
                r.EvidenceHash, r.JobId, vaultTx.Hash);
        }
        Save(done);
        return done;
    }

    /// <summary>The vault's transaction for this node's slash with <paramref name="queryId"/>, or null.</summary>
    private static async Task<TonTransaction?> FindSlashAsync(EconomicsRuntime runtime, TonAddress vault, TonAddress wallet, ulong queryId, CancellationToken ct)
    {
        var txs = await runtime.Client.GetTransactionsAsync(vault, 30, ct).ConfigureAwait(false);
        foreach (var t in txs)
        {
            if (t.InMessage is { Body: { } body } m && m.Source == wallet && !m.Bounced)
            {
                var s = body.BeginParse();
                if (s.RemainingBits >= 96 && s.LoadUInt(32) == StakeVault.OpSlash && s.LoadUInt(64) == queryId)
                {
                    return t;
                }
            }
        }
        return null;
    }

    private volatile bool _stopping;

    /// <summary>Longest a closing node waits for a slash in flight to be confirmed (a short-lived CLI process would otherwise cut it off).</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(20);

    public async ValueTask DisposeAsync()
    {
        _trust.EvidenceRecorded -= OnEvidence;
        _stopping = true;
        _wake.Release2();
        if (_loop is not null)
        {
            await TaskWaits.Within(_loop, DrainTimeout).ConfigureAwait(false);
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        _stop.Dispose();
        _gate.Dispose();
        _wake.Dispose();
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(SlashRecord))]
internal sealed partial class SlashJson : System.Text.Json.Serialization.JsonSerializerContext;

internal static class SemaphoreWake
{
    /// <summary>Wakes a waiter without over-counting (a binary signal).</summary>
    public static void Release2(this SemaphoreSlim s)
    {
        try
        {
            if (s.CurrentCount == 0)
            {
                s.Release();
            }
        }
        catch (Exception e) when (e is SemaphoreFullException or ObjectDisposedException)
        {
        }
    }
}
